import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError, isGatehouseError } from '../../errors/index.js';
import { createId } from '../../lib/ids.js';
import type { Agent } from '../../registry/index.js';
import type { Gatehouse } from '../../server/create-gatehouse.js';
import { classifyRequestError } from '../../server/problem.js';
import { createAgentRequestDecider, SESSION_HEADER } from '../agent-requests.js';
import { authenticateLlmAgent } from './agent-credential.js';
import { enforceBudgets } from './budgets.js';
import { createManifestProviderCheck } from './manifest-providers.js';
import {
  guessKind,
  LLM_OPERATIONS,
  type LlmProviderConfig,
  llmToolName,
  type OperationSpec,
  type ProviderKind,
} from './operations.js';
import { policyRefusal } from './policy-refusal.js';
import { createProviderKeys } from './provider-keys.js';
import { sendProviderRequest } from './provider-request.js';
import { type RelayResult, relayResponse } from './relay-response.js';
import { type ShapedRequest, shapeRequest } from './request-shape.js';
import { createUsageMeter, type MeteredUsage } from './usage-meter.js';
import { createUsageRecorder } from './usage-recorder.js';
import { toWireError } from './wire-errors.js';

/** Response header naming the gateway's id for a request, as found in the audit and the usage table. */
export const LLM_REQUEST_ID_HEADER = 'gatehouse-request-id';

export interface LlmGateway {
  /** Resolves once every finished request's usage row and audit entry are written. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const GATEWAYS = new WeakMap<FastifyInstance, LlmGateway>();

/** The LLM gateway registered on an app, e.g. for tests to wait until usage is recorded. */
export function llmGatewayOf(app: FastifyInstance): LlmGateway | undefined {
  return GATEWAYS.get(app);
}

interface Forwarded {
  requestId: string;
  startedAt: number;
  started: number;
  agent: Agent;
  provider: LlmProviderConfig;
  spec: OperationSpec;
  shaped: ShapedRequest;
  sessionId: string;
  step: number;
}

/**
 * The agent-facing LLM gateway: OpenAI-compatible endpoints at `/llm/<provider>/v1/{chat/completions, responses,
 * embeddings, models}` and Anthropic-compatible `/llm/<provider>/v1/{messages, models}`. Each request is
 * authenticated with the agent's Gatehouse token, checked against the manifest and the token budgets, decided
 * by the policy as `llm.<provider>.<operation>`, and only then forwarded with the provider key from the vault;
 * the response streams back as it comes, metered from its usage fields. Errors the gateway makes are in the
 * provider's own format. Outside the admin API: agents, not admins, call it.
 */
export async function registerLlmGateway(
  app: FastifyInstance,
  deps: { gatehouse: Gatehouse; log: (line: string) => void },
): Promise<LlmGateway> {
  const { gatehouse, log } = deps;
  const config = gatehouse.config.llm;
  const providers = new Map(config.providers.map((provider) => [provider.name, provider]));
  const decider = createAgentRequestDecider(gatehouse);
  const keys = createProviderKeys(gatehouse.vault, gatehouse.clock);
  const checkManifest = createManifestProviderCheck(gatehouse.store);
  const recording = new Set<Promise<unknown>>();
  const usageRows = createUsageRecorder(gatehouse.store, { log });
  if (config.storeBodies) {
    log(
      'warning: llm.storeBodies is on: prompts and completions go into the audit log, which keeps them for good',
    );
  }

  const kindOf = (url: string): ProviderKind => {
    const name = /^\/llm\/([^/?]+)/.exec(url)?.[1];
    return (name ? providers.get(name)?.kind : undefined) ?? guessKind(url);
  };

  const sendError = (reply: FastifyReply, kind: ProviderKind, error: GatehouseError) => {
    const wire = toWireError(kind, error);
    return reply.status(wire.status).headers(wire.headers).send(wire.body);
  };

  const refused = async (agentId: string | null, spec: OperationSpec, provider: string, error: unknown) => {
    if (!isGatehouseError(error) || error.code === 'invalid_token') return;
    await gatehouse.audit
      .record({
        actor: agentId ? `agent:${agentId}` : 'system',
        action: 'llm.request.refused',
        target: null,
        details: {
          provider: provider.slice(0, 100),
          operation: spec.operation,
          code: error.code,
          reason: error.message,
        },
      })
      .catch(() => {});
  };

  const record = (forwarded: Forwarded, result: RelayResult | null, outcome: string, usage: MeteredUsage) => {
    const durationMs = Math.round((performance.now() - forwarded.started) * 100) / 100;
    const { shaped, provider, spec, agent } = forwarded;
    const audited = gatehouse.audit.record({
      actor: `agent:${agent.id}`,
      action: 'llm.request.completed',
      target: `session:${forwarded.sessionId}`,
      details: {
        request: forwarded.requestId,
        step: forwarded.step,
        provider: provider.name,
        operation: spec.operation,
        model: shaped.model,
        stream: shaped.stream,
        status: result?.status ?? null,
        outcome,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        usage: usage.reported ? 'reported' : usage.estimated ? 'estimated' : 'unknown',
        durationMs,
        firstByteMs:
          result?.firstByteMs === null || !result ? null : Math.round(result.firstByteMs * 100) / 100,
        ...(config.storeBodies ? { requestBody: shaped.body, responseBody: result?.body ?? null } : {}),
      },
    });
    if (shaped.model !== null) {
      usageRows.record({
        id: forwarded.requestId,
        at: forwarded.startedAt,
        agentId: agent.id,
        teamId: agent.teamId,
        sessionId: forwarded.sessionId,
        provider: provider.name,
        operation: spec.operation,
        model: shaped.model,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        outcome,
        durationMs,
      });
    }
    const done = audited.catch((error: unknown) =>
      log(
        `warning: llm request ${forwarded.requestId} not audited: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
    recording.add(done);
    void done.finally(() => recording.delete(done));
  };

  const handle = async (spec: OperationSpec, request: FastifyRequest, reply: FastifyReply) => {
    const startedAt = gatehouse.clock.now();
    const started = performance.now();
    const providerName = (request.params as { provider: string }).provider;
    const provider = providers.get(providerName);
    const kind = provider?.kind ?? guessKind(request.url);
    let agent: Agent | null = null;
    let forwarded: Forwarded | null = null;
    try {
      agent = (await authenticateLlmAgent(gatehouse, request.headers)).agent;
      if (!provider) {
        throw new GatehouseError('provider_not_found', `no LLM provider \`${providerName.slice(0, 100)}\``);
      }
      if (!spec.kinds.includes(provider.kind)) {
        throw new GatehouseError(
          'route_not_found',
          `provider \`${provider.name}\` (${provider.kind}) has no \`${spec.method} /v1/${spec.path}\``,
        );
      }
      const shaped = shapeRequest(spec.operation, request.body);
      await checkManifest(agent, provider.name);
      const teamName =
        Object.keys(config.budgets.teams).length > 0
          ? ((await gatehouse.store.teams.findById(agent.teamId))?.name ?? '')
          : '';
      await enforceBudgets(
        gatehouse.store,
        config.budgets,
        { agent: { id: agent.id, name: agent.name }, team: { id: agent.teamId, name: teamName } },
        startedAt,
      );
      const session = request.headers[SESSION_HEADER];
      const tool = llmToolName(provider.name, spec.operation);
      const { decision, sessionId, step } = await decider.decide({
        agent,
        tool,
        args: shaped.args,
        requestedSession: typeof session === 'string' && session !== '' ? session : undefined,
        action: 'llm.request.decided',
      });
      if (decision.effect === 'deny' || decision.effect === 'approve') {
        return sendError(reply, kind, policyRefusal(decision));
      }
      if (decision.effect === 'flag') {
        void gatehouse.audit.record({
          actor: `agent:${agent.id}`,
          action: 'alert.flagged_call',
          target: `session:${sessionId}`,
          details: { step, tool, ruleIds: decision.ruleIds, reason: decision.reason },
        });
      }
      forwarded = {
        requestId: createId('llm'),
        startedAt,
        started,
        agent,
        provider,
        spec,
        shaped,
        sessionId,
        step,
      };
    } catch (error) {
      await refused(agent?.id ?? null, spec, providerName, error);
      throw error;
    }

    const meter = createUsageMeter(spec.operation);
    let result: RelayResult | null = null;
    let outcome = 'ok';
    try {
      const key = await keys.keyOf(provider);
      const abort = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      const query = request.url.indexOf('?');
      const response = await sendProviderRequest({
        provider,
        method: spec.method,
        path: `${spec.path}${query === -1 ? '' : request.url.slice(query)}`,
        agentHeaders: request.headers,
        key,
        body: forwarded.shaped.forward,
        signal: abort.signal,
      });
      reply.hijack();
      result = await relayResponse({
        response,
        raw: reply.raw,
        kind: provider.kind,
        meter,
        providerKey: key,
        headers: { [LLM_REQUEST_ID_HEADER]: forwarded.requestId },
        captureBody: config.storeBodies,
      });
      outcome = result.outcome;
    } catch (error) {
      outcome = isGatehouseError(error) ? error.code : 'internal_error';
      throw error;
    } finally {
      record(forwarded, result, outcome, meter.usage());
    }
  };

  await app.register(
    async (scoped) => {
      // Provider-format errors, not problem+json: the agent's SDK must be able to read them.
      scoped.removeContentTypeParser('application/json');
      scoped.addContentTypeParser(
        'application/json',
        { parseAs: 'buffer', bodyLimit: config.maxRequestBytes },
        (_request, body, done) => {
          try {
            done(null, JSON.parse((body as Buffer).toString('utf8')));
          } catch {
            done(new GatehouseError('invalid_request', 'the request body is not valid JSON'), undefined);
          }
        },
      );
      scoped.setErrorHandler((error, request, reply) => {
        const failure = classifyRequestError(error);
        if (failure.status >= 500) {
          log(
            `llm gateway: ${request.method} ${request.url.split('?')[0]}: ${failure.code}: ${failure.message}`,
          );
        }
        if (reply.sent || reply.raw.headersSent) return;
        return sendError(reply, kindOf(request.url), failure);
      });
      scoped.setNotFoundHandler((request, reply) =>
        sendError(
          reply,
          kindOf(request.url),
          new GatehouseError(
            'route_not_found',
            `no LLM route \`${request.method} ${request.url.split('?')[0]?.slice(0, 200)}\``,
          ),
        ),
      );
      for (const spec of LLM_OPERATIONS) {
        scoped.route({
          method: spec.method,
          url: `/:provider/v1/${spec.path}`,
          bodyLimit: config.maxRequestBytes,
          schema: { hide: true },
          handler: (request, reply) => handle(spec, request, reply),
        });
      }
    },
    { prefix: '/llm' },
  );

  const settled = async () => {
    while (recording.size > 0) await Promise.all([...recording]);
    await usageRows.flush();
  };
  const gateway: LlmGateway = { settled, close: settled };
  GATEWAYS.set(app, gateway);
  return gateway;
}
