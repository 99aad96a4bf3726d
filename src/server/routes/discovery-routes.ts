import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CandidateRegistrationSchema,
  createCatalog,
  DiscoveryRunRecordSchema,
  discoverOnServer,
  loadRegistrySnapshot,
  recordDiscoveryRun,
  registerCandidates,
  scanTraffic,
} from '../../discovery/index.js';
import { GatehouseError } from '../../errors/index.js';
import { hasPermission } from '../../identity/admin-principal.js';
import { EmailSchema } from '../../registry/index.js';
import type { DiscoveryCandidateRecord } from '../../store/index.js';
import { principalOf, requirePermission } from '../app.js';
import type { Gatehouse } from '../create-gatehouse.js';
import { agentView, loadDirectory } from '../views.js';

const security = [{ adminToken: [] }];
const tags = ['discovery'];
const read = requirePermission('read');
const write = requirePermission('write');
const BooleanQuery = z.enum(['true', 'false']).transform((value) => value === 'true');

/**
 * Discovery of shadow agents: what the CLI compares its local scans with (the registry, and traffic the audit log
 * saw), the history of runs and candidates, a server-side run of the configured scan, and registration of
 * candidates as unreviewed agents.
 */
export function registerDiscoveryRoutes(app: FastifyInstance, gatehouse: Gatehouse) {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/discovery/context',
    {
      preHandler: read,
      schema: { tags, security, querystring: z.strictObject({ traffic: BooleanQuery.default(true) }) },
    },
    async (request) => {
      const registry = await loadRegistrySnapshot(gatehouse.store);
      if (!request.query.traffic) return { agents: registry, traffic: null };
      // Traffic comes out of the audit log: auditors and admins only.
      if (!hasPermission(principalOf(request), 'audit')) {
        throw new GatehouseError('forbidden', `role \`${principalOf(request).role}\` may not read traffic`);
      }
      await gatehouse.audit.flush();
      const traffic = await scanTraffic({
        audit: gatehouse.store.audit,
        registry,
        endpoints: createCatalog(gatehouse.config.discovery).endpoints,
        window: gatehouse.config.discovery.auditWindow,
      });
      return { agents: registry, traffic };
    },
  );

  api.post(
    '/discovery/runs',
    {
      preHandler: write,
      // A large estate's run is bigger than an admin request usually is.
      bodyLimit: 16 * 1024 * 1024,
      schema: { tags, security, body: DiscoveryRunRecordSchema },
    },
    async (request, reply) => {
      const history = await recordDiscoveryRun(gatehouse, principalOf(request).actor, request.body, 'cli');
      return reply.status(201).send(history);
    },
  );

  api.get(
    '/discovery/runs',
    {
      preHandler: read,
      schema: {
        tags,
        security,
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(20) }),
      },
    },
    async (request) => ({ runs: await gatehouse.store.discovery.listRuns(request.query.limit) }),
  );

  api.get(
    '/discovery/candidates',
    {
      preHandler: read,
      schema: {
        tags,
        security,
        querystring: z.strictObject({
          status: z.enum(['unknown', 'registered', 'approved']).optional(),
          since: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(10_000).default(1000),
        }),
      },
    },
    async (request) => ({
      candidates: (
        await gatehouse.store.discovery.listCandidates({
          ...(request.query.status ? { status: request.query.status } : {}),
          ...(request.query.since !== undefined ? { seenSince: request.query.since } : {}),
          limit: request.query.limit,
        })
      ).map(candidateView),
    }),
  );

  api.get(
    '/discovery/candidates/:candidate',
    {
      preHandler: read,
      schema: { tags, security, params: z.strictObject({ candidate: z.string().min(1).max(100) }) },
    },
    async (request) => {
      const [candidate] = await gatehouse.store.discovery.findCandidates([request.params.candidate]);
      if (!candidate) {
        throw new GatehouseError(
          'discovery_candidate_not_found',
          `no discovery candidate \`${request.params.candidate}\``,
        );
      }
      const findings = await gatehouse.store.discovery.listFindings(candidate.id);
      return {
        candidate: candidateView(candidate),
        findings: findings.map((finding) => ({
          ...finding,
          firstSeen: new Date(finding.firstSeen).toISOString(),
          lastSeen: new Date(finding.lastSeen).toISOString(),
        })),
      };
    },
  );

  api.post('/discovery/scans', { preHandler: write, schema: { tags, security } }, async (request) =>
    discoverOnServer(gatehouse, { actor: principalOf(request).actor, source: 'api' }),
  );

  api.post(
    '/discovery/registrations',
    {
      preHandler: write,
      schema: {
        tags,
        security,
        body: z.strictObject({
          team: z.string().min(1).max(200),
          sponsor: z.union([EmailSchema, z.string().regex(/^usr_[a-z0-9]+$/)]),
          candidates: z.array(CandidateRegistrationSchema).min(1).max(500),
        }),
      },
    },
    async (request, reply) => {
      const results = await registerCandidates(gatehouse, principalOf(request).actor, {
        team: request.body.team,
        sponsor: request.body.sponsor,
        registrations: request.body.candidates,
      });
      const directory = await loadDirectory(gatehouse.store);
      return reply.status(201).send({
        results: results.map((result) => ({
          candidateId: result.candidateId,
          agent: result.agent ? agentView(result.agent, directory) : null,
          error: result.error,
        })),
      });
    },
  );
}

function candidateView(candidate: DiscoveryCandidateRecord) {
  return {
    ...candidate,
    confidence: candidate.confidence / 100,
    firstSeen: new Date(candidate.firstSeen).toISOString(),
    lastSeen: new Date(candidate.lastSeen).toISOString(),
  };
}
