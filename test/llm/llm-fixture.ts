import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { importJWK, type JWK } from 'jose';
import OpenAI from 'openai';
import { createTokenSource, type TokenSource } from '../../src/agent-client/index.js';
import type { AuditEntry } from '../../src/audit/types.js';
import { parseConfig } from '../../src/config/index.js';
import { llmGatewayOf } from '../../src/gateway/llm/index.js';
import { createAdminToken } from '../../src/identity/admin-tokens.js';
import { findFreePort } from '../../src/lib/free-port.js';
import { createTeam, createUser, registerAgent } from '../../src/registry/index.js';
import { createGatehouse } from '../../src/server/create-gatehouse.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { type StandInProvider, startStandInProvider } from './stand-in-provider.js';

const SETUP = 'test:setup';

/** The policy every LLM test runs under: test models allowed, one model denied, one needing approval, a cap. */
export const LLM_POLICY = `
rules:
  - id: test-models
    tool: ["llm.openai.*", "llm.anthropic.*", "llm.down.*", "llm.nokey.*"]
    condition: 'has(call.args.model) && (call.args.model.startsWith("gpt-test") || call.args.model.startsWith("claude-test") || call.args.model.startsWith("text-embedding-test"))'
    effect: allow
  - id: list-models
    tool: "llm.*.models"
    effect: allow
  - id: forbidden-model
    tool: "llm.*"
    args: { model: { one_of: [gpt-test-forbidden] } }
    effect: deny
    reason: gpt-test-forbidden is not approved for agents
  - id: big-model-needs-approval
    tool: "llm.*"
    args: { model: { one_of: [gpt-test-big] } }
    effect: approve
    reason: the big model needs a human's approval
  - id: cap-max-tokens
    tool: "llm.*"
    args: { max_tokens: { exclusive_min: 1000 } }
    effect: deny
    reason: at most 1000 output tokens per request
  - id: watch-tools
    tool: "llm.*"
    condition: '"shell" in call.args.tools'
    effect: flag
    reason: a model offered a shell
`;

export interface FixtureAgent {
  id: string;
  name: string;
  tokens: TokenSource;
}

export interface LlmFixture {
  server: RunningServer;
  provider: StandInProvider;
  /** The gateway's base URL (`http://127.0.0.1:<port>`). */
  url: string;
  agents: Record<'helper' | 'budgeted' | 'thrifty' | 'restricted', FixtureAgent>;
  adminToken: string;
  logs: string[];
  /** An OpenAI client configured only with the gateway URL and the agent's access token. */
  openai(agent?: FixtureAgent, options?: { maxRetries?: number }): Promise<OpenAI>;
  /** An Anthropic client configured only with the gateway URL and the agent's access token. */
  anthropic(agent?: FixtureAgent, options?: { maxRetries?: number }): Promise<Anthropic>;
  /** Waits until every finished request's usage row and audit entry are written. */
  settled(): Promise<void>;
  audit(): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

/**
 * A real Gatehouse server with the LLM gateway in front of the stand-in provider (as `openai` and `anthropic`),
 * plus a provider nobody listens for (`down`) and one whose key is not in the vault (`nokey`). Agents: `helper`
 * (no limits), `budgeted` (10 tokens a day), `thrifty` (its team `frugal` has 10 tokens a month), `restricted`
 * (its manifest declares only `anthropic`).
 */
export async function startLlmFixture(options: { storeBodies?: boolean } = {}): Promise<LlmFixture> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-llm-')));
  const provider = await startStandInProvider({ slowMs: 2000 });
  await mkdir(join(root, 'policy'));
  await writeFile(join(root, 'policy', 'policy.yaml'), LLM_POLICY);
  const port = await findFreePort();
  const closedPort = await findFreePort();
  const issuer = `http://127.0.0.1:${port}`;
  const logs: string[] = [];
  const config = parseConfig({
    dataDir: join(root, 'data'),
    masterKey: randomBytes(32).toString('base64'),
    server: { port, publicUrl: issuer, logLevel: 'silent' },
    policy: { path: join(root, 'policy'), watch: false },
    llm: {
      providers: [
        {
          name: 'openai',
          kind: 'openai',
          baseUrl: provider.openaiBaseUrl,
          apiKeySecret: 'openai-key',
          timeout: 800,
        },
        {
          name: 'anthropic',
          kind: 'anthropic',
          baseUrl: provider.anthropicBaseUrl,
          apiKeySecret: 'anthropic-key',
          timeout: 800,
        },
        {
          name: 'down',
          kind: 'openai',
          baseUrl: `http://127.0.0.1:${closedPort}/v1`,
          apiKeySecret: 'openai-key',
        },
        { name: 'nokey', kind: 'openai', baseUrl: provider.openaiBaseUrl, apiKeySecret: 'missing-key' },
      ],
      budgets: { agents: { budgeted: { daily: 10 } }, teams: { frugal: { monthly: 10 } } },
      storeBodies: options.storeBodies ?? false,
    },
  });
  const bootstrap = await createGatehouse(config, { actor: SETUP });
  await bootstrap.vault.set({ name: 'openai-key', value: provider.openaiKey }, SETUP);
  await bootstrap.vault.set(
    { name: 'anthropic-key', value: provider.anthropicKey, upstream: 'anthropic' },
    SETUP,
  );
  await bootstrap.close();

  const server = await startServer(config, { log: (line) => logs.push(line) });
  const { gatehouse } = server;
  await createTeam(gatehouse, SETUP, { name: 'research' });
  await createTeam(gatehouse, SETUP, { name: 'frugal' });
  await createUser(gatehouse, SETUP, { email: 'sponsor@example.com', teams: ['research', 'frugal'] });
  const register = async (name: string, team: string, llmProviders: string[]): Promise<FixtureAgent> => {
    const registered = await registerAgent(gatehouse, SETUP, {
      name,
      team,
      sponsor: 'sponsor@example.com',
      manifest: { description: name, tools: [], egressHosts: [], llmProviders, dataClasses: [] },
    });
    const jwk = registered.privateKey?.jwk as JWK;
    const alg = jwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
    const key = { key: await importJWK(jwk, alg), alg } as const;
    return {
      id: registered.agent.id,
      name,
      tokens: createTokenSource({ server: issuer, agentId: registered.agent.id, key }),
    };
  };
  const agents = {
    helper: await register('helper', 'research', []),
    budgeted: await register('budgeted', 'research', []),
    thrifty: await register('thrifty', 'frugal', []),
    restricted: await register('restricted', 'research', ['anthropic']),
  };
  const admin = await createAdminToken(
    gatehouse,
    { actor: SETUP, role: 'admin', userId: null },
    { role: 'admin', name: 't' },
  );
  const gateway = llmGatewayOf(server.app);
  if (!gateway) throw new Error('the LLM gateway is not registered');
  // Usage rows and audit entries are written just after a response ends.
  const settled = () => gateway.settled();

  return {
    server,
    provider,
    url: issuer,
    agents,
    adminToken: admin.secret,
    logs,
    async openai(agent = agents.helper, clientOptions = {}) {
      // The SDK asks the agent's token source before each request, so tokens renew as they expire.
      return new OpenAI({
        baseURL: `${issuer}/llm/openai/v1`,
        apiKey: () => agent.tokens.token(),
        ...clientOptions,
      });
    },
    async anthropic(agent = agents.helper, clientOptions = {}) {
      return new Anthropic({
        baseURL: `${issuer}/llm/anthropic`,
        apiKey: () => agent.tokens.token(),
        ...clientOptions,
      });
    },
    settled,
    async audit() {
      await settled();
      return gatehouse.store.audit.list(0, 100_000);
    },
    async close() {
      await server.close();
      await provider.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
