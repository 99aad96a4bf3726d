import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import ms from 'ms';
import { z } from 'zod';
import { GatehouseError } from '../../errors/index.js';
import { buildUsageReport } from '../../gateway/llm/index.js';
import { requirePermission } from '../app.js';
import type { Gatehouse } from '../create-gatehouse.js';

const security = [{ adminToken: [] }];
const read = requirePermission('read');
const DEFAULT_SINCE = '30d';

/** LLM token usage: `GET /admin/v1/usage`, the report `gatehouse usage` prints. */
export function registerUsageRoutes(app: FastifyInstance, gatehouse: Gatehouse) {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/usage',
    {
      preHandler: read,
      schema: {
        tags: ['usage'],
        summary: 'LLM token usage by model, agent, team or provider, and the budgets that apply',
        security,
        querystring: z.strictObject({
          agent: z.string().min(1).max(200).optional(),
          team: z.string().min(1).max(200).optional(),
          /** A duration back from now (`7d`, `12h`) or an ISO 8601 time. */
          since: z.string().min(1).max(40).default(DEFAULT_SINCE),
          until: z.string().min(1).max(40).optional(),
          by: z.enum(['model', 'agent', 'team', 'provider']).default('model'),
        }),
      },
    },
    async (request) => {
      const now = gatehouse.clock.now();
      const { query } = request;
      const until = query.until === undefined ? now + 1 : parseTime(query.until, now, 'until');
      return buildUsageReport(
        gatehouse,
        {
          since: parseTime(query.since, now, 'since'),
          until,
          by: query.by,
          ...(query.agent ? { agent: query.agent } : {}),
          ...(query.team ? { team: query.team } : {}),
        },
        now,
      );
    },
  );
}

/** `7d` (back from now) or an ISO 8601 time, as epoch ms. */
function parseTime(value: string, now: number, field: string): number {
  if (/^\d+(\.\d+)?\s*[a-z]+$/i.test(value)) {
    const span = ms(value as ms.StringValue);
    if (typeof span === 'number' && Number.isFinite(span) && span >= 0) return now - span;
  } else if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const time = Date.parse(value);
    if (Number.isFinite(time)) return time;
  }
  throw new GatehouseError(
    'validation_failed',
    `\`${field}\` must be a duration such as 7d or 12h, or an ISO 8601 time; got \`${value}\``,
  );
}
