import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createTokenSource, readAgentKey } from '../../src/agent-client/index.js';
import type { ApprovalView } from '../../src/approvals/index.js';
import { parseConfig } from '../../src/config/index.js';
import { createAdminToken } from '../../src/identity/admin-tokens.js';
import type { AdminRole } from '../../src/identity/types.js';
import { findFreePort } from '../../src/lib/free-port.js';
import { createTeam, createUser, registerAgent, reviewAgent } from '../../src/registry/index.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';

const EVERYTHING_SERVER = resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const SETUP = 'test:setup';

export const WEBHOOK_SECRET = `whsec-${randomBytes(12).toString('hex')}`;

/** What the approval routes answer: one request, a list, or a problem with its code. */
export interface AdminBody {
  approval: ApprovalView;
  approvals: ApprovalView[];
  code?: string;
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
}

export interface ApprovalFixture {
  server: RunningServer;
  url: string;
  /** Admin tokens by person: `alice`, `bob` (approvers), `sponsor` (approver role, but the agent's sponsor), `nobody` (approver, no user), `reader` (auditor of alice). */
  tokens: Record<'alice' | 'bob' | 'carol' | 'sponsor' | 'nobody' | 'reader', string>;
  webhooks: ReceivedWebhook[];
  connect(): Promise<Client>;
  admin(
    token: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: AdminBody }>;
  close(): Promise<void>;
}

/**
 * A real Gatehouse with @modelcontextprotocol/server-everything upstream, an approved agent `helper`, people with
 * admin tokens, and a local webhook receiver. `policy` is the bundle's YAML.
 */
export async function startApprovalFixture(policy: string): Promise<ApprovalFixture> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-apr-')));
  const policyDir = join(root, 'policy');
  await mkdir(policyDir);
  await writeFile(join(policyDir, 'policy.yaml'), policy);

  const webhooks: ReceivedWebhook[] = [];
  const hookServer: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      webhooks.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => hookServer.listen(0, '127.0.0.1', done));
  const hookPort = (hookServer.address() as { port: number }).port;

  const port = await findFreePort();
  const issuer = `http://127.0.0.1:${port}`;
  const config = parseConfig({
    dataDir: join(root, 'data'),
    masterKey: randomBytes(32).toString('base64'),
    server: { port, publicUrl: issuer, logLevel: 'silent' },
    policy: { path: policyDir, watch: false },
    mcp: { callTimeout: 5000 },
    approvals: {
      waitTimeout: 10_000,
      expiry: 60_000,
      webhooks: [{ url: `http://127.0.0.1:${hookPort}/hook`, secret: 'approval-hook' }],
    },
    upstreams: [
      {
        name: 'everything',
        transport: 'stdio',
        command: process.execPath,
        args: [EVERYTHING_SERVER, 'stdio'],
      },
    ],
  });
  const logs: string[] = [];
  const server = await startServer(config, { log: (line) => logs.push(line) });
  const { gatehouse } = server;
  await gatehouse.vault.set({ name: 'approval-hook', value: WEBHOOK_SECRET }, SETUP);
  await createTeam(gatehouse, SETUP, { name: 'research' });
  for (const person of ['sponsor', 'alice', 'bob', 'carol', 'reviewer']) {
    await createUser(gatehouse, SETUP, { email: `${person}@example.com`, teams: ['research'] });
  }
  const registered = await registerAgent(gatehouse, SETUP, {
    name: 'helper',
    team: 'research',
    sponsor: 'sponsor@example.com',
    manifest: {
      description: 'assistant',
      tools: ['everything.*'],
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
  await writeFile(keyFile, JSON.stringify(registered.privateKey?.jwk), { mode: 0o600 });
  const agentTokens = createTokenSource({
    server: issuer,
    agentId: registered.agent.id,
    key: await readAgentKey(keyFile),
  });
  const token = async (role: AdminRole, email?: string) =>
    (
      await createAdminToken(
        gatehouse,
        { actor: SETUP, role: 'admin', userId: null },
        { role, name: email ?? role, ...(email ? { userEmail: email } : {}) },
      )
    ).secret;
  const tokens = {
    alice: await token('approver', 'alice@example.com'),
    bob: await token('approver', 'bob@example.com'),
    carol: await token('admin', 'carol@example.com'),
    sponsor: await token('approver', 'sponsor@example.com'),
    nobody: await token('approver'),
    reader: await token('auditor', 'alice@example.com'),
  };
  const clients: Client[] = [];

  return {
    server,
    url: issuer,
    tokens,
    webhooks,
    async connect() {
      const transport = new StreamableHTTPClientTransport(new URL(`${issuer}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${await agentTokens.token()}` } },
      });
      const client = new Client({ name: 'test-agent', version: '1.0.0' });
      await client.connect(transport);
      clients.push(client);
      return client;
    },
    async admin(adminToken, method, path, body) {
      const response = await fetch(`${issuer}/admin/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as AdminBody };
    },
    async close() {
      await Promise.allSettled(clients.map((client) => client.close()));
      await server.close();
      await new Promise((done) => hookServer.close(done));
      await rm(root, { recursive: true, force: true });
    },
  };
}
