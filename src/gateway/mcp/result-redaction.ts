import type { Gatehouse } from '../../server/create-gatehouse.js';
import { resolveUpstreamCredentials } from '../../vault/index.js';
import { createRedactor, type Redact } from '../upstreams/index.js';

const REFRESH_MS = 5_000;

/**
 * Scrubs injected credential values out of whatever goes back to an agent. An upstream that prints its own
 * environment or echoes a header would otherwise hand the agent the very secret it must never hold.
 */
export interface ResultRedactor {
  redact<T>(value: T): Promise<T>;
}

export function createResultRedactor(gatehouse: Gatehouse): ResultRedactor {
  let cached: { redact: Redact; at: number } | undefined;
  const current = async (): Promise<Redact> => {
    if (cached && Date.now() - cached.at < REFRESH_MS) return cached.redact;
    const values: string[] = [];
    for (const upstream of gatehouse.config.upstreams) {
      const credentials = await resolveUpstreamCredentials(gatehouse.vault, upstream).catch(() => undefined);
      if (!credentials) continue;
      values.push(...Object.values('env' in credentials ? credentials.env : credentials.headers));
    }
    cached = { redact: createRedactor(values), at: Date.now() };
    return cached.redact;
  };
  return {
    async redact(value) {
      const redact = await current();
      return scrub(value, redact) as typeof value;
    },
  };
}

function scrub(value: unknown, redact: Redact): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((item) => scrub(item, redact));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrub(item, redact)]));
  }
  return value;
}
