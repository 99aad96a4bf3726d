import type { FastifyInstance } from 'fastify';
import type { Gatehouse } from '../create-gatehouse.js';

/** Liveness says the process runs; readiness says it can serve (the store answers). */
export function registerHealthRoutes(app: FastifyInstance, gatehouse: Gatehouse) {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await gatehouse.store.ping();
      return { status: 'ready', store: gatehouse.store.kind };
    } catch {
      return reply
        .status(503)
        .send({ status: 'not_ready', store: gatehouse.store.kind, code: 'store_unavailable' });
    }
  });
}
