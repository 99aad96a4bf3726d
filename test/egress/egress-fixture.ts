import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenSource, readAgentKey, type TokenSource } from '../../src/agent-client/index.js';
import type { AuditEntry } from '../../src/audit/types.js';
import { parseConfig } from '../../src/config/index.js';
import { createAdminToken } from '../../src/identity/admin-tokens.js';
import { findFreePort } from '../../src/lib/free-port.js';
import { principalOfAgent } from '../../src/policy-runtime/index.js';
import { createTeam, createUser, registerAgent, reviewAgent } from '../../src/registry/index.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';

const SETUP = 'test:setup';

/** What the stand-in API saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: string;
}

export interface LocalApi {
  server: Server;
  port: number;
  seen: SeenRequest[];
  /** Resolves the held `/hold` response: it sent its first chunk and waits for this. */
  release(): void;
  close(): Promise<void>;
}

export interface EgressAgent {
  id: string;
  name: string;
  tokens: TokenSource;
}

export interface EgressFixture {
  server: RunningServer;
  proxyUrl: string;
  api: LocalApi;
  tls: LocalApi & { ca: string; caFile: string };
  /** `fetcher` declares egress hosts in its manifest; `roamer` declares none (policy alone decides). */
  fetcher: EgressAgent;
  roamer: EgressAgent;
  adminToken: string;
  /** The credential the routes inject. */
  apiKey: string;
  logs: string[];
  /** A new task session for an agent (its own history and taint). */
  session(agent: EgressAgent): Promise<string>;
  /** Records an allowed `vault.read_secret` call in the session: it now carries `secret` taint. */
  readSecret(agent: EgressAgent, sessionId: string): Promise<void>;
  /** Audit entries so far, after waiting until one with `action` (and matching `where`) is there. */
  auditUntil(action: string, where?: (entry: AuditEntry) => boolean): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

const POLICY = `
version: 1
tools:
  - match: [http.request]
    labels: [egress]
  - match: [vault.read_secret]
    labels: [reads:secret]
rules:
  - { id: read-secrets, tool: vault.read_secret, effect: allow }
  - id: egress-allowlist
    description: the allowlist, reachable whatever the session read
    tool: http.request
    args: { host: { host_in: [localhost] } }
    effect: allow
  - id: egress-public-api
    description: an API outside the allowlist, fine until the session holds a secret
    tool: http.request
    args: { host: { host_in: ["127.0.0.1"] } }
    effect: allow
  - id: no-secret-egress
    reason: after reading a secret, egress goes only to the allowlist
    tool: http.request
    taint: { secrecy: [secret] }
    args: { host: { host_not_in: [localhost] } }
    effect: deny
  - id: no-forbidden-route
    tool: http.request
    args: { route: { one_of: [forbidden] } }
    effect: deny
  - id: roamer-probes
    description: lets the address guard, not policy, answer for these
    principal: { agents: [roamer] }
    tool: http.request
    args:
      host:
        host_in: ["127.0.0.2", "169.254.169.254", "::1", "0.0.0.0", "10.0.0.1", "::ffff:7f00:1", "*.example.test"]
    effect: allow
`;

/** A stand-in API on 127.0.0.1 that echoes what it got, plus `/hold` (streams in two chunks on cue). */
async function startLocalApi(options: { tls?: { key: string; cert: string } } = {}): Promise<LocalApi> {
  const seen: SeenRequest[] = [];
  let releaseHold: () => void = () => {};
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        rawHeaders: request.rawHeaders,
        body,
      });
      if (request.url?.endsWith('/silent')) return; // never answers
      if (request.url?.startsWith('/hold') || request.url?.endsWith('/hold')) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write('data: first\n\n');
        const held = new Promise<void>((resolve) => {
          releaseHold = resolve;
        });
        void held.then(() => response.end('data: second\n\n'));
        return;
      }
      const reply = JSON.stringify({
        method: request.method,
        url: request.url,
        headers: request.headers,
        bodyLength: body.length,
        bodyStart: body.slice(0, 16),
      });
      response.writeHead(200, {
        'content-type': 'application/json',
        'x-echo-auth': String(request.headers['x-api-key'] ?? ''),
      });
      response.end(reply);
    });
  };
  const server = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    server,
    port,
    seen,
    release: () => releaseHold(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A self-signed certificate for `localhost` and `127.0.0.1`, made with openssl at test time. */
async function selfSignedCertificate(dir: string): Promise<{ key: string; cert: string }> {
  const keyFile = join(dir, 'tls.key');
  const certFile = join(dir, 'tls.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') };
}

/**
 * A real Gatehouse (HTTP server + egress proxy on its own port) in front of two local stand-in APIs on
 * 127.0.0.1, one plain HTTP and one TLS. Routes `echo` (header), `echoq` (query), `bearer` (Authorization)
 * `forbidden` (denied by policy) and `slow` (300 ms timeout) point at the plain API's `/v1`.
 */
export async function startEgressFixture(): Promise<EgressFixture> {
  const root = await mkdtemp(join(tmpdir(), 'gatehouse-egress-'));
  const certificate = await selfSignedCertificate(root);
  const api = await startLocalApi();
  const tlsApi = await startLocalApi({ tls: certificate });
  const policyDir = join(root, 'policy');
  await mkdir(policyDir);
  await writeFile(join(policyDir, 'policy.yaml'), POLICY);
  const apiKey = `sk-test-${randomBytes(16).toString('hex')}`;

  const port = await findFreePort();
  const issuer = `http://127.0.0.1:${port}`;
  const baseUrl = `http://127.0.0.1:${api.port}/v1`;
  const logs: string[] = [];
  const config = parseConfig({
    dataDir: join(root, 'data'),
    masterKey: randomBytes(32).toString('base64'),
    server: { port, publicUrl: issuer, logLevel: 'silent' },
    policy: { path: policyDir, watch: false },
    egress: {
      proxy: { enabled: true, port: 0 },
      // The stand-in APIs live on loopback: these two names may reach it, nothing else may.
      allowPrivateHosts: ['localhost', '127.0.0.1', 'rebind.example.test'],
      connectTimeout: '2s',
      routes: [
        { name: 'echo', baseUrl, credential: { secret: 'echo-key', header: 'x-api-key' } },
        { name: 'echoq', baseUrl, credential: { secret: 'echo-key', query: 'key' } },
        {
          name: 'bearer',
          baseUrl,
          credential: { secret: 'echo-key', header: 'Authorization', prefix: 'Bearer ' },
        },
        { name: 'forbidden', baseUrl, credential: { secret: 'echo-key', header: 'x-api-key' } },
        { name: 'slow', baseUrl, credential: { secret: 'echo-key', header: 'x-api-key' }, timeout: '300ms' },
      ],
    },
  });
  const server = await startServer(config, { log: (line) => logs.push(line) });
  const { gatehouse } = server;
  await gatehouse.vault.set({ name: 'echo-key', value: apiKey }, SETUP);
  await createTeam(gatehouse, SETUP, { name: 'research' });
  await createUser(gatehouse, SETUP, { email: 'sponsor@example.com', teams: ['research'] });
  await createUser(gatehouse, SETUP, { email: 'reviewer@example.com' });

  const agent = async (name: string, egressHosts: string[]): Promise<EgressAgent> => {
    const registered = await registerAgent(gatehouse, SETUP, {
      name,
      team: 'research',
      sponsor: 'sponsor@example.com',
      manifest: { description: name, tools: [], egressHosts, llmProviders: [], dataClasses: [] },
    });
    await reviewAgent(gatehouse, { actor: SETUP, userId: null }, registered.agent.id, {
      decision: 'approve',
      reviewer: 'reviewer@example.com',
    });
    const keyFile = join(root, `${name}.jwk`);
    await writeFile(keyFile, JSON.stringify(registered.privateKey?.jwk), { mode: 0o600 });
    const tokens = createTokenSource({
      server: issuer,
      agentId: registered.agent.id,
      key: await readAgentKey(keyFile),
    });
    return { id: registered.agent.id, name, tokens };
  };
  const fetcher = await agent('fetcher', ['localhost', '127.0.0.1', '*.example.test']);
  const roamer = await agent('roamer', []);
  const admin = await createAdminToken(
    gatehouse,
    { actor: SETUP, role: 'admin', userId: null },
    { role: 'admin', name: 't' },
  );
  if (!server.egressProxyUrl) throw new Error('the egress proxy did not start');

  return {
    server,
    proxyUrl: server.egressProxyUrl,
    api,
    tls: { ...tlsApi, ca: certificate.cert, caFile: join(root, 'tls.crt') },
    fetcher,
    roamer,
    adminToken: admin.secret,
    apiKey,
    logs,
    async session(who) {
      return (await gatehouse.sessions.start({ agentId: who.id, scope: {} })).id;
    },
    async readSecret(who, sessionId) {
      const found = await gatehouse.store.agents.findById(who.id);
      if (!found) throw new Error(`no agent ${who.id}`);
      const { decision } = await gatehouse.sessions.decide({
        sessionId,
        principal: await principalOfAgent(gatehouse.store, found),
        call: { tool: 'vault.read_secret', args: { name: 'db-password' } },
      });
      if (decision.effect !== 'allow') throw new Error(`vault.read_secret was ${decision.effect}`);
    },
    async auditUntil(action, where = () => true) {
      for (let attempt = 0; attempt < 100; attempt++) {
        const entries = await gatehouse.store.audit.list(0, 100_000);
        if (entries.some((entry) => entry.action === action && where(entry))) return entries;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`no audit entry ${action}`);
    },
    async close() {
      await server.close();
      await api.close();
      await tlsApi.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
