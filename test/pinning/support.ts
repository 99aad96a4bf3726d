import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { createTokenSource, readAgentKey, type TokenSource } from '../../src/agent-client/index.js';
import { runCli } from '../../src/cli/program.js';
import { parseConfig } from '../../src/config/index.js';
import { createAdminToken } from '../../src/identity/admin-tokens.js';
import { findFreePort } from '../../src/lib/free-port.js';
import { createTeam, createUser, registerAgent } from '../../src/registry/index.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { type MutableToolServer, startMutableToolServer } from './fixtures/mutable-tool-server.js';

const SETUP = 'test:setup';

export interface PinningFixture {
  server: RunningServer;
  upstream: MutableToolServer;
  url: string;
  /** Admin tokens by role. */
  tokens: { admin: string; reviewer: string; auditor: string };
  /** Agent id and token source by name: `reviewed` (approved over the API by a test) and `fresh` (never). */
  agents: Record<'reviewed' | 'fresh', { id: string; tokens: TokenSource }>;
  connect(agent: 'reviewed' | 'fresh'): Promise<Client>;
  /** An admin API request with the role's token. */
  api(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    role?: 'admin' | 'reviewer' | 'auditor',
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** The CLI against the running server, as `role`. */
  cli(
    argv: string[],
    role?: 'admin' | 'reviewer' | 'auditor',
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

/**
 * A real Gatehouse in front of one real MCP upstream of our own (`acme`, over Streamable HTTP) whose tool
 * definitions the test rewrites. Two agents, both still unreviewed: `reviewed`, whose manifest names
 * `acme.lookup`, and `fresh` (`acme.*`). The policy allows every `acme` tool.
 */
export async function startPinningFixture(tools: readonly Tool[]): Promise<PinningFixture> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-pin-')));
  const upstream = await startMutableToolServer(tools);
  const policyDir = join(root, 'policy');
  await mkdir(policyDir);
  await writeFile(
    join(policyDir, 'policy.yaml'),
    'rules:\n  - { id: acme-tools, tool: ["acme.*"], effect: allow }\n',
  );
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const config = parseConfig({
    dataDir: join(root, 'data'),
    masterKey: randomBytes(32).toString('base64'),
    server: { port, publicUrl: url, logLevel: 'silent' },
    policy: { path: policyDir, watch: false },
    mcp: { callTimeout: 3000 },
    upstreams: [{ name: 'acme', transport: 'http', url: upstream.url }],
  });
  const logs: string[] = [];
  const server = await startServer(config, { log: (line) => logs.push(line) });
  const { gatehouse } = server;
  await createTeam(gatehouse, SETUP, { name: 'research' });
  await createUser(gatehouse, SETUP, { email: 'sponsor@example.com', teams: ['research'] });
  await createUser(gatehouse, SETUP, { email: 'reviewer@example.com' });
  const agents = {} as PinningFixture['agents'];
  for (const name of ['reviewed', 'fresh'] as const) {
    const registered = await registerAgent(gatehouse, SETUP, {
      name,
      team: 'research',
      sponsor: 'sponsor@example.com',
      // `reviewed` names one tool; the policy lets it use every `acme` tool.
      manifest: {
        description: 'looks customers up',
        tools: name === 'reviewed' ? ['acme.lookup'] : ['acme.*'],
        egressHosts: [],
        llmProviders: [],
        dataClasses: [],
      },
    });
    const keyFile = join(root, `${name}.jwk`);
    await writeFile(keyFile, JSON.stringify(registered.privateKey?.jwk), { mode: 0o600 });
    agents[name] = {
      id: registered.agent.id,
      tokens: createTokenSource({
        server: url,
        agentId: registered.agent.id,
        key: await readAgentKey(keyFile),
      }),
    };
  }
  const token = async (role: 'admin' | 'reviewer' | 'auditor') =>
    (
      await createAdminToken(
        gatehouse,
        { actor: SETUP, role: 'admin', userId: null },
        { role, name: `${role}-token` },
      )
    ).secret;
  const tokens = {
    admin: await token('admin'),
    reviewer: await token('reviewer'),
    auditor: await token('auditor'),
  };
  const clients: Client[] = [];

  return {
    server,
    upstream,
    url,
    tokens,
    agents,
    async connect(agent) {
      const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${await agents[agent].tokens.token()}` } },
      });
      const client = new Client({ name: `test-${agent}`, version: '1.0.0' });
      await client.connect(transport);
      clients.push(client);
      return client;
    },
    async api(method, path, body, role = 'admin') {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${tokens[role]}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    async cli(argv, role = 'admin') {
      let stdout = '';
      let stderr = '';
      const code = await runCli(['--server', url, '--token', tokens[role], ...argv], {
        stdout: (text) => {
          stdout += text;
        },
        stderr: (text) => {
          stderr += text;
        },
        env: {},
        cwd: root,
      });
      return { code, stdout, stderr };
    },
    async close() {
      await Promise.allSettled(clients.map((client) => client.close()));
      await server.close();
      await upstream.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns true (a gateway sees upstream changes asynchronously). */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
