import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import ms from 'ms';
import { z } from 'zod';
import { GatehouseError } from '../../errors/index.js';
import { checkBundle, compileBundle, diffBundles, type PolicySource } from '../../policy/index.js';
import { loadRecordedSessions } from '../../policy-runtime/index.js';
import { principalOf, requirePermission } from '../app.js';
import type { Gatehouse } from '../create-gatehouse.js';

const security = [{ adminToken: [] }];
const read = requirePermission('read');
const write = requirePermission('write');

const SourcesSchema = z
  .array(z.strictObject({ name: z.string().min(1).max(300), text: z.string().max(1024 * 1024) }))
  .min(1)
  .max(500);
const VersionParams = z.strictObject({ version: z.coerce.number().int().min(1) });
const DEFAULT_DIFF_WINDOW_MS = 7 * 24 * 3600_000;
const MAX_DIFF_CALLS = 100_000;

/** Policy versions: publish, activate, shadow, and what a candidate would change. */
export function registerPolicyRoutes(app: FastifyInstance, gatehouse: Gatehouse) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { policies } = gatehouse;

  api.get('/policies', { preHandler: read, schema: { tags: ['policies'], security } }, async () => ({
    status: policies.status(),
    versions: (await policies.list()).map((version) => ({
      ...version,
      createdAt: new Date(version.createdAt).toISOString(),
    })),
  }));

  api.post(
    '/policies',
    {
      preHandler: write,
      schema: {
        tags: ['policies'],
        security,
        body: z.strictObject({
          sources: SourcesSchema,
          message: z.string().max(1000).optional(),
          activate: z.boolean().optional(),
          shadow: z.boolean().optional(),
        }),
      },
    },
    async (request, reply) => {
      const { sources, ...options } = request.body;
      const result = await policies.publish(sources, { ...options, actor: principalOf(request).actor });
      return reply.status(result.unchanged ? 200 : 201).send({ ...result, status: policies.status() });
    },
  );

  api.post(
    '/policies/check',
    {
      preHandler: read,
      schema: { tags: ['policies'], security, body: z.strictObject({ sources: SourcesSchema }) },
    },
    async (request) => {
      const result = checkBundle(request.body.sources);
      return result.ok
        ? { ok: true, rules: result.bundle.rules.length, digest: result.bundle.digest }
        : { ok: false, problems: result.problems };
    },
  );

  api.get(
    '/policies/:version',
    { preHandler: read, schema: { tags: ['policies'], security, params: VersionParams } },
    async (request) => {
      const { stored } = await policies.load(request.params.version);
      return { ...stored, createdAt: new Date(stored.createdAt).toISOString() };
    },
  );

  api.post(
    '/policies/:version/activate',
    { preHandler: write, schema: { tags: ['policies'], security, params: VersionParams } },
    async (request) => {
      await policies.activate(request.params.version, principalOf(request).actor);
      return { status: policies.status() };
    },
  );

  api.post(
    '/policies/shadow',
    {
      preHandler: write,
      schema: {
        tags: ['policies'],
        security,
        body: z.strictObject({ version: z.number().int().min(1).nullable() }),
      },
    },
    async (request) => {
      await policies.setShadow(request.body.version, principalOf(request).actor);
      return { status: policies.status() };
    },
  );

  api.get(
    '/policies/shadow/differences',
    {
      preHandler: read,
      schema: {
        tags: ['policies'],
        security,
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      },
    },
    async (request) => ({
      status: policies.status(),
      differences: (await gatehouse.store.sessions.shadowDifferences(request.query.limit)).map((call) => ({
        sessionId: call.sessionId,
        step: call.step,
        at: new Date(call.at).toISOString(),
        tool: call.tool,
        agent: call.principal.name ?? call.principal.id,
        active: { version: call.bundleVersion, effect: call.effect, ruleIds: call.ruleIds },
        shadow: call.shadow,
      })),
    }),
  );

  api.post(
    '/policies/diff',
    {
      preHandler: read,
      schema: {
        tags: ['policies'],
        security,
        body: z
          .strictObject({
            sources: SourcesSchema.optional(),
            version: z.number().int().min(1).optional(),
            since: z.string().max(50).optional(),
            limit: z.number().int().min(1).max(MAX_DIFF_CALLS).optional(),
          })
          .refine((body) => (body.sources === undefined) !== (body.version === undefined), {
            message: 'give either `sources` or `version`',
          }),
      },
    },
    async (request) => {
      const { body } = request;
      const candidate = body.sources
        ? compileBundle(body.sources as PolicySource[], { version: 'candidate' })
        : (await policies.load(body.version as number)).bundle;
      const window = body.since === undefined ? DEFAULT_DIFF_WINDOW_MS : ms(body.since as ms.StringValue);
      if (typeof window !== 'number' || !Number.isFinite(window) || window < 0) {
        throw new GatehouseError(
          'validation_failed',
          `\`${body.since}\` is not a duration such as 24h or 7d`,
        );
      }
      const sessions = await loadRecordedSessions(gatehouse.store, {
        since: gatehouse.clock.now() - window,
        limit: body.limit ?? MAX_DIFF_CALLS,
      });
      const active = policies.active();
      return {
        active: active.version,
        candidate: candidate.version,
        ...diffBundles(active, candidate, sessions),
      };
    },
  );
}
