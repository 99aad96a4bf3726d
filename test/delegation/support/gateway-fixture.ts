import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { importJWK, type JWK, SignJWT } from 'jose';
import { z } from 'zod';
import { parseConfig } from '../../../src/config/index.js';
import { findFreePort } from '../../../src/lib/free-port.js';
import { createTeam, createUser, registerAgent } from '../../../src/registry/index.js';
import { createGatehouse } from '../../../src/server/create-gatehouse.js';
import { type RunningServer, startServer } from '../../../src/server/start-server.js';
import { type HttpToolServer, startHttpToolServer } from '../../gateway/fixtures/http-tool-server.js';
import { type CompanyIdp, startCompanyIdp } from './company-idp.js';

const SETUP = 'test:setup';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

export interface GatewayAgent {
  id: string;
  name: string;
  jwk: JWK;
}

export interface DelegationGateway {
  server: RunningServer;
  idp: CompanyIdp;
  tools: HttpToolServer;
  agents: Record<'planner' | 'researcher' | 'writer', GatewayAgent>;
  /** Tokens the researcher agent received from Gatehouse on agent-to-agent calls. */
  researcherTokens: string[];
  /** The agent's own token (client_credentials). */
  ownToken(agent: GatewayAgent): Promise<string>;
  /** Token exchange at the real HTTP endpoint; throws unless it succeeds. */
  exchange(agent: GatewayAgent, subjectToken: string, extra?: Record<string, string>): Promise<string>;
  /** planner acting for `login`, signed in at the IdP. */
  userToken(login: string, extra?: Record<string, string>): Promise<string>;
  connect(token: string): Promise<Client>;
  close(): Promise<void>;
}

/**
 * A real Gatehouse server in front of two HTTP upstreams: `tools` (the echo/count test server) and `research`,
 * which is the registered agent `researcher` serving MCP itself — its `investigate` tool calls back through
 * Gatehouse with the token Gatehouse exchanged for it. `policy` is YAML with `$PLANNER` for the planner's id.
 */
export async function startDelegationGateway(policy: string): Promise<DelegationGateway> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-deleg-')));
  const idp = await startCompanyIdp({
    alice: { email: 'alice@acme.example', groups: ['support'] },
    bob: { email: 'bob@acme.example', groups: ['finance'] },
  });
  const tools = await startHttpToolServer();
  const port = await findFreePort();
  const issuer = `http://127.0.0.1:${port}`;
  const researcherTokens: string[] = [];
  const research = await startResearcherAgent(issuer, researcherTokens);

  const policyDir = join(root, 'policy');
  await mkdir(policyDir);
  const config = parseConfig({
    dataDir: join(root, 'data'),
    masterKey: randomBytes(32).toString('base64'),
    server: { port, publicUrl: issuer, logLevel: 'silent' },
    policy: { path: policyDir, watch: false },
    mcp: { callTimeout: 5000 },
    upstreams: [
      { name: 'tools', transport: 'http', url: tools.url },
      { name: 'research', transport: 'http', url: research.url },
    ],
    identity: {
      issuers: [{ issuer: idp.issuer, audience: idp.clientId }],
      agentUpstreams: [{ upstream: 'research', agent: 'researcher' }],
    },
  });
  const bootstrap = await createGatehouse(config, { actor: SETUP });
  await createTeam(bootstrap, SETUP, { name: 'research' });
  await createUser(bootstrap, SETUP, { email: 'alice@acme.example', teams: ['research'] });
  const register = async (name: string): Promise<GatewayAgent> => {
    const registered = await registerAgent(bootstrap, SETUP, {
      name,
      team: 'research',
      sponsor: 'alice@acme.example',
      manifest: {
        description: name,
        tools: ['tools.*', 'research.*'],
        egressHosts: [],
        llmProviders: [],
        dataClasses: [],
      },
    });
    // Left unreviewed: review pins the tools seen at that moment (none yet), which would hold them all.
    return { id: registered.agent.id, name, jwk: registered.privateKey?.jwk as JWK };
  };
  const agents = {
    planner: await register('planner'),
    researcher: await register('researcher'),
    writer: await register('writer'),
  };
  await bootstrap.close();
  await writeFile(join(policyDir, 'policy.yaml'), policy.replaceAll('$PLANNER', agents.planner.id));
  const server = await startServer(config);
  const clients: Client[] = [];

  const post = async (form: Record<string, string>) => {
    const response = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    const body = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`token request refused: ${JSON.stringify(body)}`);
    return body.access_token as string;
  };
  const assertion = async (agent: GatewayAgent) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(agent.id)
      .setSubject(agent.id)
      .setAudience(`${issuer}/oauth/token`)
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(randomUUID())
      .sign(await importJWK(agent.jwk, 'EdDSA'));
  const exchange = async (agent: GatewayAgent, subjectToken: string, extra: Record<string, string> = {}) =>
    post({
      grant_type: TOKEN_EXCHANGE,
      subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      client_assertion_type: JWT_BEARER,
      client_assertion: await assertion(agent),
      ...extra,
    });

  return {
    server,
    idp,
    tools,
    agents,
    researcherTokens,
    ownToken: async (agent) =>
      post({
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: await assertion(agent),
      }),
    exchange,
    userToken: async (login, extra = {}) =>
      exchange(agents.planner, await idp.login(login), {
        subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
        ...extra,
      }),
    async connect(token) {
      const client = new Client({ name: 'test-agent', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${issuer}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.allSettled(clients.map((client) => client.close()));
      await server.close();
      await Promise.allSettled([tools.close(), research.close(), idp.close()]);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * The `researcher` agent as an MCP server (stateless Streamable HTTP). `investigate` takes the token Gatehouse
 * sent with the call, connects back to Gatehouse with it, and reports what its own calls got.
 */
async function startResearcherAgent(gatehouseUrl: string, tokens: string[]) {
  const handle = async (headers: IncomingHttpHeaders, question: string) => {
    const token = headers['gatehouse-delegated-token'];
    if (typeof token !== 'string') return { error: 'no delegated token' };
    tokens.push(token);
    const client = new Client({ name: 'researcher', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${gatehouseUrl}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      const call = async (name: string, args: Record<string, unknown>) => {
        try {
          const result = (await client.callTool({ name, arguments: args })) as {
            content: Array<{ text?: string }>;
          };
          return { text: result.content[0]?.text };
        } catch (error) {
          return { refused: error instanceof Error ? error.message : String(error) };
        }
      };
      return {
        echo: await call('tools.echo', { message: `researched ${question}` }),
        count: await call('tools.count', { to: 1, delayMs: 0 }),
      };
    } finally {
      await client.close();
    }
  };
  const server: Server = createServer((req, res) => {
    const mcp = new McpServer({ name: 'researcher', version: '1.0.0' });
    mcp.registerTool(
      'investigate',
      { description: 'Researches a question using Gatehouse tools.', inputSchema: { question: z.string() } },
      async ({ question }, extra) => {
        const report = await handle((extra.requestInfo?.headers ?? {}) as IncomingHttpHeaders, question);
        return { content: [{ type: 'text' as const, text: JSON.stringify(report) }] };
      },
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      void mcp
        .connect(transport)
        .then(() => transport.handleRequest(req, res, text ? JSON.parse(text) : undefined))
        .catch(() => {
          res.statusCode = 500;
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
