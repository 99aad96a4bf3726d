import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { buildSessionGraph } from '../../delegation/index.js';
import { requireAgent } from '../../registry/index.js';
import type { SessionCall, StoredSession } from '../../store/index.js';
import { principalOf, requirePermission } from '../app.js';
import type { Gatehouse } from '../create-gatehouse.js';

const security = [{ adminToken: [] }];
const read = requirePermission('read');
const write = requirePermission('write');

/** Gatehouse sessions: list them, read one's timeline of calls and decisions, create a task for an agent. */
export function registerSessionRoutes(app: FastifyInstance, gatehouse: Gatehouse) {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/sessions',
    {
      preHandler: read,
      schema: {
        tags: ['sessions'],
        security,
        querystring: z.strictObject({
          agent: z.string().min(1).max(200).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(50),
        }),
      },
    },
    async (request) => {
      const agentId = request.query.agent
        ? (await requireAgent(gatehouse.store, request.query.agent)).id
        : undefined;
      const sessions = await gatehouse.store.sessions.list({
        ...(agentId ? { agentId } : {}),
        limit: request.query.limit,
      });
      return { sessions: sessions.map(sessionView) };
    },
  );

  api.post(
    '/sessions',
    {
      preHandler: write,
      schema: {
        tags: ['sessions'],
        security,
        body: z.strictObject({
          agent: z.string().min(1).max(200),
          scope: z.record(z.string(), z.unknown()).default({}),
          user: z.strictObject({ id: z.string().min(1), email: z.string().optional() }).optional(),
        }),
      },
    },
    async (request, reply) => {
      const agent = await requireAgent(gatehouse.store, request.body.agent);
      const session = await gatehouse.sessions.start({
        agentId: agent.id,
        scope: request.body.scope,
        ...(request.body.user ? { user: request.body.user } : {}),
      });
      await gatehouse.audit.record({
        actor: principalOf(request).actor,
        action: 'session.created',
        target: `session:${session.id}`,
        details: { agent: agent.id, scope: session.scope },
      });
      return reply.status(201).send({ session: sessionView(session) });
    },
  );

  api.get(
    '/sessions/:id/graph',
    {
      preHandler: read,
      schema: {
        tags: ['sessions'],
        summary: 'The call graph of the task: users, agents and tools; delegations and calls with decisions',
        security,
        params: z.strictObject({ id: z.string().min(1).max(100) }),
      },
    },
    async (request) => ({ graph: await buildSessionGraph(gatehouse.store, request.params.id) }),
  );

  api.get(
    '/sessions/:id',
    {
      preHandler: read,
      schema: { tags: ['sessions'], security, params: z.strictObject({ id: z.string().min(1).max(100) }) },
    },
    async (request) => {
      const session = await gatehouse.sessions.get(request.params.id);
      const calls = await gatehouse.store.sessions.callsOf(session.id);
      return { session: sessionView(session), calls: calls.map(callView) };
    },
  );
}

function sessionView(session: StoredSession) {
  return {
    id: session.id,
    agentId: session.agentId,
    scope: session.scope,
    user: session.user,
    steps: session.state.step,
    taint: session.state.taint,
    terminated: session.state.terminated ?? null,
    createdAt: new Date(session.createdAt).toISOString(),
    updatedAt: new Date(session.updatedAt).toISOString(),
  };
}

/** A call as the timeline shows it; arguments stay in the store (they may hold data the viewer should not see). */
function callView(call: SessionCall) {
  return {
    step: call.step,
    at: new Date(call.at).toISOString(),
    tool: call.tool,
    effect: call.effect,
    code: call.code,
    ruleIds: call.ruleIds,
    outcome: call.outcome,
    bundle: call.bundleVersion,
    ...(call.shadow ? { shadow: call.shadow } : {}),
  };
}
