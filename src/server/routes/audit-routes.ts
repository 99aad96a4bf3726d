import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { verifyStoredAudit, writeAuditExport } from '../../audit/index.js';
import { requirePermission } from '../app.js';
import type { Gatehouse } from '../create-gatehouse.js';

const security = [{ adminToken: [] }];
const auditor = requirePermission('audit');

/** Reading, verifying and exporting the audit chain: the auditor's view. */
export function registerAuditRoutes(app: FastifyInstance, gatehouse: Gatehouse) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/audit/entries',
    {
      preHandler: auditor,
      schema: {
        tags: ['audit'],
        security,
        querystring: z.strictObject({
          after: z.coerce.number().int().min(0).default(0),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => {
      await gatehouse.audit.flush();
      const entries = await gatehouse.store.audit.list(request.query.after, request.query.limit);
      return { entries, next: entries.length === request.query.limit ? entries.at(-1)?.seq : null };
    },
  );
  api.get('/audit/checkpoints', { preHandler: auditor, schema: { tags: ['audit'], security } }, async () => ({
    checkpoints: await gatehouse.store.audit.listCheckpoints(),
  }));
  api.get('/audit/jwks', { preHandler: auditor, schema: { tags: ['audit'], security } }, async () =>
    gatehouse.keyring.auditJwks(),
  );
  api.post('/audit/verify', { preHandler: auditor, schema: { tags: ['audit'], security } }, async () => {
    // No checkpoint first: signing the head before verifying it would vouch for whatever the database holds.
    await gatehouse.audit.flush();
    return verifyStoredAudit({ store: gatehouse.store, jwks: await gatehouse.keyring.auditJwks() });
  });
  api.get(
    '/audit/export',
    { preHandler: auditor, schema: { tags: ['audit'], security } },
    async (_request, reply) => {
      await gatehouse.audit.flush();
      // A checkpoint at the head makes the export's end verifiable: deleting trailing entries is then detected.
      // The export stops at the latest checkpoint, so entries appended meanwhile wait for the next export
      // instead of ending this one uncovered.
      const finalCheckpoint = await gatehouse.audit.checkpointNow();
      const covered = finalCheckpoint ?? (await gatehouse.store.audit.latestCheckpoint());
      const dir = await mkdtemp(join(tmpdir(), 'gatehouse-export-'));
      try {
        const out = join(dir, 'audit.jsonl');
        await writeAuditExport({ store: gatehouse.store, out, finalCheckpoint, untilSeq: covered?.seq ?? 0 });
        return reply.type('application/jsonl').send(await readFile(out));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
}
