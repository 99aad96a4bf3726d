import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  acceptTools,
  listPendingTools,
  type PendingTool,
  pinnedAgents,
  scanAgentTools,
  type ToolPin,
} from '../../gateway/pinning/index.js';
import { requireAgent } from '../../registry/index.js';
import { principalOf, requirePermission } from '../app.js';
import type { Gatehouse } from '../create-gatehouse.js';

const security = [{ adminToken: [] }];
const read = requirePermission('read');
const review = requirePermission('review');
const AgentParams = z.strictObject({ agent: z.string().min(1).max(200) });
const HashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest');

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const pendingView = (pending: PendingTool) => ({ ...pending, heldAt: iso(pending.heldAt) });

const pinView = (pin: ToolPin) => ({
  tool: pin.tool,
  upstream: pin.upstream,
  hash: pin.hash,
  pinnedAt: iso(pin.pinnedAt),
  pinnedBy: pin.pinnedBy,
});

/**
 * Tool pinning for reviewers: held tool changes with their diffs, accepting them, the scanner's findings on an
 * agent's tool descriptions, and its pins. Accepting takes the `review` permission.
 */
export function registerToolPinRoutes(app: FastifyInstance, gatehouse: Gatehouse) {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/tools/pending',
    {
      preHandler: read,
      schema: {
        tags: ['tools'],
        summary: 'Tools held for review: changed definitions (with diffs) and new tools',
        security,
        querystring: z.strictObject({ agent: z.string().min(1).max(200).optional() }),
      },
    },
    async (request) => {
      const agents = request.query.agent
        ? [await requireAgent(gatehouse.store, request.query.agent)]
        : await pinnedAgents(gatehouse);
      return { pending: (await listPendingTools(gatehouse, agents)).map(pendingView) };
    },
  );

  api.post(
    '/agents/:agent/tools/accept',
    {
      preHandler: review,
      schema: {
        tags: ['tools'],
        summary: "Pin the current definition of an agent's held tools (one, or all)",
        security,
        params: AgentParams,
        body: z.strictObject({
          tool: z.string().min(1).max(300).optional(),
          all: z.boolean().optional(),
          hash: HashSchema.optional(),
        }),
      },
    },
    async (request) => ({
      accepted: await acceptTools(gatehouse, principalOf(request).actor, request.params.agent, request.body),
    }),
  );

  api.get(
    '/agents/:agent/tools/scan',
    {
      preHandler: read,
      schema: {
        tags: ['tools'],
        summary: "Findings of the injection scanner in the agent's tool definitions",
        security,
        params: AgentParams,
      },
    },
    async (request) => ({
      scan: await scanAgentTools(gatehouse, await requireAgent(gatehouse.store, request.params.agent)),
    }),
  );

  api.get(
    '/agents/:agent/tools/pins',
    {
      preHandler: read,
      schema: {
        tags: ['tools'],
        summary: "The agent's pinned tool definitions",
        security,
        params: AgentParams,
      },
    },
    async (request) => {
      const agent = await requireAgent(gatehouse.store, request.params.agent);
      const baseline = await gatehouse.store.toolPins.baseline(agent.id);
      return {
        pinning: baseline ? 'active' : 'inactive',
        baseline: baseline
          ? {
              manifestVersion: baseline.manifestVersion,
              establishedAt: iso(baseline.establishedAt),
              establishedBy: baseline.establishedBy,
              updatedAt: iso(baseline.updatedAt),
            }
          : null,
        pins: (await gatehouse.store.toolPins.listPins(agent.id)).map(pinView),
      };
    },
  );
}
