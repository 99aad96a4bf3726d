import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createTokenSource, readAgentKey, type TokenSource } from '../../src/agent-client/index.js';
import { parseConfig } from '../../src/config/index.js';
import { type OutboxServer, startOutboxServer } from '../../src/demo/outbox-server.js';
import { createAdminToken } from '../../src/identity/admin-tokens.js';
import { findFreePort } from '../../src/lib/free-port.js';
import { createTeam, createUser, registerAgent, reviewAgent } from '../../src/registry/index.js';
import { createGatehouse } from '../../src/server/create-gatehouse.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';

const FILESYSTEM_SERVER = resolve('node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
const EVERYTHING_SERVER = resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const SETUP = 'test:setup';

export interface GatewayFixture {
  server: RunningServer;
  outbox: OutboxServer;
  /** The directory the filesystem upstream serves (real path). */
  workspace: string;
  agentId: string;
  keyFile: string;
  tokens: TokenSource;
  adminToken: string;
  /** Secret values put in the vault and injected into upstreams. */
  secrets: string[];
  logs: string[];
  /** An MCP client connected as the agent; `headers` are added to every request. */
  connect(options?: { headers?: Record<string, string>; token?: string }): Promise<Client>;
  close(): Promise<void>;
}

/**
 * A real Gatehouse in front of real upstreams: @modelcontextprotocol/server-filesystem on a temp workspace,
 * @modelcontextprotocol/server-everything, and our own HTTP outbox server that verifies capabilities. One
 * approved agent, `helper`, with its private key in a file. `policy` is the bundle's YAML.
 */
export async function startGatewayFixture(options: {
  policy: string;
  mcp?: Record<string, unknown>;
}): Promise<GatewayFixture> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-gw-')));
  const workspace = join(root, 'workspace');
  await mkdir(join(workspace, 'customers', 'A'), { recursive: true });
  await mkdir(join(workspace, 'customers', 'B'), { recursive: true });
  await writeFile(join(workspace, 'README.md'), '# Project\nQuarterly numbers are in reports/.\n');
  await writeFile(join(workspace, 'customers', 'A', 'orders.txt'), 'order 1 for A\n');
  await writeFile(join(workspace, 'customers', 'B', 'orders.txt'), 'order 7 for B\n');
  const policyDir = join(root, 'policy');
  await mkdir(policyDir);
  await writeFile(join(policyDir, 'policy.yaml'), options.policy.replaceAll('$WORKSPACE', workspace));

  const port = await findFreePort();
  const issuer = `http://127.0.0.1:${port}`;
  const outbox = await startOutboxServer({ issuer, audience: 'outbox' });
  const secrets = [
    `env-secret-${randomBytes(12).toString('hex')}`,
    `hdr-secret-${randomBytes(12).toString('hex')}`,
  ];
  const logs: string[] = [];
  const config = parseConfig({
    dataDir: join(root, 'data'),
    masterKey: randomBytes(32).toString('base64'),
    server: { port, publicUrl: issuer, logLevel: 'silent' },
    policy: { path: policyDir, watch: false },
    mcp: { callTimeout: 3000, ...options.mcp },
    upstreams: [
      { name: 'files', transport: 'stdio', command: process.execPath, args: [FILESYSTEM_SERVER, workspace] },
      {
        name: 'everything',
        transport: 'stdio',
        command: process.execPath,
        args: [EVERYTHING_SERVER, 'stdio'],
        secretEnv: { DEMO_API_KEY: 'everything-key' },
      },
      {
        name: 'outbox',
        transport: 'http',
        url: outbox.url,
        secretHeaders: { 'x-outbox-key': { secret: 'outbox-key', prefix: '' } },
      },
    ],
  });
  // Upstream credentials go into the vault before the upstreams are started with them.
  const bootstrap = await createGatehouse(config, { actor: SETUP });
  await bootstrap.vault.set(
    { name: 'everything-key', value: secrets[0] as string, upstream: 'everything' },
    SETUP,
  );
  await bootstrap.vault.set({ name: 'outbox-key', value: secrets[1] as string, upstream: 'outbox' }, SETUP);
  await bootstrap.close();

  const server = await startServer(config, { log: (line) => logs.push(line) });
  const { gatehouse } = server;
  await createTeam(gatehouse, SETUP, { name: 'research' });
  await createUser(gatehouse, SETUP, { email: 'sponsor@example.com', teams: ['research'] });
  await createUser(gatehouse, SETUP, { email: 'reviewer@example.com' });
  const registered = await registerAgent(gatehouse, SETUP, {
    name: 'helper',
    team: 'research',
    sponsor: 'sponsor@example.com',
    manifest: {
      description: 'research assistant',
      tools: ['files.*', 'everything.*', 'outbox.*'],
      egressHosts: [],
      llmProviders: [],
      dataClasses: [],
    },
  });
  await reviewAgent(gatehouse, { actor: SETUP, userId: null }, registered.agent.id, {
    decision: 'approve',
    reviewer: 'reviewer@example.com',
  });
  const keyFile = join(root, 'agent.jwk');
  await writeFile(join(root, 'agent.jwk'), JSON.stringify(registered.privateKey?.jwk), { mode: 0o600 });
  const tokens = createTokenSource({
    server: issuer,
    agentId: registered.agent.id,
    key: await readAgentKey(keyFile),
  });
  const admin = await createAdminToken(
    gatehouse,
    { actor: SETUP, role: 'admin', userId: null },
    { role: 'admin', name: 't' },
  );
  const clients: Client[] = [];

  return {
    server,
    outbox,
    workspace,
    agentId: registered.agent.id,
    keyFile,
    tokens,
    adminToken: admin.secret,
    secrets,
    logs,
    async connect(connectOptions = {}) {
      const token = connectOptions.token ?? (await tokens.token());
      const transport = new StreamableHTTPClientTransport(new URL(`${issuer}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}`, ...connectOptions.headers } },
      });
      const client = new Client({ name: 'test-agent', version: '1.0.0' });
      await client.connect(transport);
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.allSettled(clients.map((client) => client.close()));
      await server.close();
      await outbox.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
