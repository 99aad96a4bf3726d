import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApprovalEvent, ApprovalView } from '../../approvals/index.js';
import { principalOf, requirePermission } from '../app.js';
import type { Gatehouse } from '../create-gatehouse.js';

const security = [{ adminToken: [] }];
const read = requirePermission('read');
const approve = requirePermission('approve');
const IdParams = z.strictObject({ id: z.string().min(1).max(100) });
const DecisionBody = z.strictObject({ reason: z.string().trim().min(1).max(2000) });
/** Changes made by other processes (the CLI on the store, other replicas) reach the stream this often. */
const STREAM_POLL_MS = 2000;
const HEARTBEAT_MS = 15_000;

/**
 * Approvals of parked calls (docs/approvals.md): the queue, one request, approve/deny with a reason, and a
 * server-sent-events stream of changes for live views.
 */
export function registerApprovalRoutes(app: FastifyInstance, gatehouse: Gatehouse) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
  });

  api.get(
    '/approvals',
    {
      preHandler: read,
      schema: {
        tags: ['approvals'],
        security,
        querystring: z.strictObject({
          state: z.enum(['pending', 'resolved']).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => ({
      approvals: await gatehouse.approvals.list({
        ...(request.query.state ? { state: request.query.state } : {}),
        limit: request.query.limit,
      }),
    }),
  );

  api.get(
    '/approvals/events',
    { preHandler: read, schema: { tags: ['approvals'], security } },
    async (request, reply) => {
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write('retry: 2000\n\n');
      const send = (type: string, approval: ApprovalView) => {
        raw.write(`event: ${type}\nid: ${approval.id}\ndata: ${JSON.stringify({ type, approval })}\n\n`);
      };
      let since = gatehouse.clock.now();
      const unsubscribe = gatehouse.approvals.subscribe((event: ApprovalEvent) =>
        send(event.type, event.approval),
      );
      let polling = false;
      const poll = setInterval(async () => {
        if (polling) return;
        polling = true;
        try {
          const changed = await gatehouse.approvals.changedSince(since);
          for (const approval of changed) send('approval.changed', approval);
          const last = changed.at(-1);
          if (last) since = Math.max(since, latestChange(last));
        } catch {
          // The next tick tries again; a stream is best effort, the list endpoint is the source of truth.
        } finally {
          polling = false;
        }
      }, STREAM_POLL_MS);
      const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
      streams.add(raw);
      const stop = () => {
        clearInterval(poll);
        clearInterval(heartbeat);
        unsubscribe();
        streams.delete(raw);
      };
      request.raw.on('close', stop);
      raw.on('close', stop);
    },
  );

  api.get(
    '/approvals/:id',
    { preHandler: read, schema: { tags: ['approvals'], security, params: IdParams } },
    async (request) => ({ approval: await gatehouse.approvals.get(request.params.id) }),
  );

  for (const action of ['approve', 'deny'] as const) {
    api.post(
      `/approvals/:id/${action}`,
      {
        preHandler: approve,
        schema: { tags: ['approvals'], security, params: IdParams, body: DecisionBody },
      },
      async (request) => ({
        approval: await gatehouse.approvals[action](
          principalOf(request),
          request.params.id,
          request.body.reason,
        ),
      }),
    );
  }
}

/** The newest time in a view: the stream's high-water mark for polling the store. */
function latestChange(approval: ApprovalView): number {
  const times = [
    approval.requestedAt,
    approval.resolvedAt,
    approval.consumedAt,
    ...approval.votes.map((v) => v.at),
  ];
  return Math.max(...times.filter((time): time is string => time !== null).map((time) => Date.parse(time)));
}
