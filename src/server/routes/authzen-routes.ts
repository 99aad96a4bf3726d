import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  ACCESS_EVALUATION_PATH,
  ACCESS_EVALUATIONS_PATH,
  AGENT_SUBJECT_TYPE,
  type AgentLookup,
  type AuthzenDecision,
  type AuthzenEvaluation,
  decideEvaluation,
  PDP_METADATA_PATH,
  parseEvaluationRequest,
  parseEvaluationsRequest,
  pdpMetadata,
  runEvaluations,
} from '../../authzen/index.js';
import { GatehouseError, isGatehouseError } from '../../errors/index.js';
import type { AdminPrincipal } from '../../identity/admin-principal.js';
import { principalOfAgent } from '../../policy-runtime/index.js';
import { requireAgent } from '../../registry/index.js';
import { authenticateAdmin, principalOf, requirePermission } from '../app.js';
import type { Gatehouse } from '../create-gatehouse.js';
import { classifyRequestError, sendProblem } from '../problem.js';

const REQUEST_ID_HEADER = 'x-request-id';
const JSON_MEDIA_TYPE = 'application/json';
const security = [{ adminToken: [] }];
const mayEvaluate = requirePermission('evaluate');

/**
 * The OpenID AuthZEN Authorization API 1.0: Gatehouse as a Policy Decision Point for other gateways and
 * services. `POST /access/v1/evaluation` and `/access/v1/evaluations` decide with the active policy bundle; callers
 * authenticate with an admin token whose role may `evaluate` (`pep` or `admin`). `GET
 * /.well-known/authzen-configuration` publishes the endpoints and needs no token. Every response echoes the
 * caller's `X-Request-ID` (or carries a fresh one); errors are problem+json, and a body that is not
 * `application/json` is a 400, as the AuthZEN certification requires.
 */
export function registerAuthzenRoutes(
  app: FastifyInstance,
  gatehouse: Gatehouse,
  localOperator?: AdminPrincipal,
): void {
  app.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => {
      const given = request.headers[REQUEST_ID_HEADER];
      reply.header(REQUEST_ID_HEADER, typeof given === 'string' && given !== '' ? given : randomUUID());
    });
    scope.setErrorHandler((error, request, reply) => {
      const problem =
        (error as { code?: unknown }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? new GatehouseError('invalid_request', `the content type must be \`${JSON_MEDIA_TYPE}\``)
          : classifyRequestError(error);
      if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
      return sendProblem(request, reply, problem);
    });
    // One parser for every content type, so a wrong one is a 400 (AuthZEN) rather than Fastify's 415.
    const parseJson = scope.getDefaultJsonParser('error', 'error');
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
      if (!isJsonContentType(request.headers['content-type'])) {
        done(
          new GatehouseError('invalid_request', `the content type must be \`${JSON_MEDIA_TYPE}\``),
          undefined,
        );
        return;
      }
      parseJson(request, body as string, done);
    });

    scope.get(
      PDP_METADATA_PATH,
      { schema: { tags: ['authzen'], summary: 'AuthZEN PDP metadata' } },
      async () => pdpMetadata(gatehouse.issuer),
    );

    scope.register(async (access) => {
      access.addHook('onRequest', async (request, reply) => {
        request.adminPrincipal = await authenticateAdmin(gatehouse, request, localOperator);
        await mayEvaluate(request, reply);
      });
      access.post(
        ACCESS_EVALUATION_PATH,
        { schema: { tags: ['authzen'], security, summary: 'AuthZEN Access Evaluation' } },
        async (request) => {
          const evaluation = parseEvaluationRequest(requireBody(request));
          return createEvaluator(gatehouse, principalOf(request).actor)(evaluation);
        },
      );
      access.post(
        ACCESS_EVALUATIONS_PATH,
        { schema: { tags: ['authzen'], security, summary: 'AuthZEN Access Evaluations (batch)' } },
        async (request) => {
          const parsed = parseEvaluationsRequest(requireBody(request));
          const evaluate = createEvaluator(gatehouse, principalOf(request).actor);
          if (parsed.kind === 'single') return evaluate(parsed.evaluation);
          return { evaluations: await runEvaluations(parsed.items, parsed.semantic, evaluate) };
        },
      );
    });
  });
}

/**
 * Decides evaluations with one bundle and one instant for the whole request, so a batch is answered by a
 * single policy version. Registry lookups of `agent` subjects are made once per request and id. Every decision
 * is audited (durably, before the answer) as `authzen.decision`, like the gateway's own.
 */
function createEvaluator(
  gatehouse: Gatehouse,
  actor: string,
): (evaluation: AuthzenEvaluation) => Promise<AuthzenDecision> {
  const bundle = gatehouse.policies.active();
  const now = gatehouse.clock.now();
  const agents = new Map<string, Promise<AgentLookup>>();
  return async (evaluation) => {
    let agent: AgentLookup | undefined;
    if (evaluation.subject.type === AGENT_SUBJECT_TYPE) {
      const ref = evaluation.subject.id;
      let lookup = agents.get(ref);
      if (!lookup) {
        lookup = lookupAgent(gatehouse, ref);
        agents.set(ref, lookup);
      }
      agent = await lookup;
    }
    const answer = decideEvaluation(bundle, evaluation, { now, agent });
    const context = answer.context && 'effect' in answer.context ? answer.context : undefined;
    await gatehouse.audit.record({
      actor,
      action: 'authzen.decision',
      target: `${evaluation.resource.type}:${evaluation.resource.id}`,
      details: {
        subject: { type: evaluation.subject.type, id: evaluation.subject.id },
        action: evaluation.action.name,
        decision: answer.decision,
        ...(context ? { effect: context.effect, code: context.code, ruleIds: context.rule_ids } : {}),
      },
    });
    return answer;
  };
}

async function lookupAgent(gatehouse: Gatehouse, ref: string): Promise<AgentLookup> {
  try {
    const agent = await requireAgent(gatehouse.store, ref);
    return {
      found: true,
      active: agent.state === 'active',
      state: agent.state,
      principal: await principalOfAgent(gatehouse.store, agent),
    };
  } catch (error) {
    if (isGatehouseError(error) && error.code === 'agent_not_found') return { found: false };
    throw error;
  }
}

/** A bodiless POST never reaches the parser: say so rather than "must be a JSON object". */
function requireBody(request: FastifyRequest): unknown {
  if (request.body === undefined) {
    throw new GatehouseError('invalid_request', `the request needs a JSON body (\`${JSON_MEDIA_TYPE}\`)`);
  }
  return request.body;
}

function isJsonContentType(header: string | undefined): boolean {
  return header?.split(';', 1)[0]?.trim().toLowerCase() === JSON_MEDIA_TYPE;
}
