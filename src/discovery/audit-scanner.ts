import type { AuditEntry } from '../audit/index.js';
import type { ProviderEndpoint } from './signatures.js';
import { createTrafficAccumulator } from './traffic-findings.js';
import {
  emptyScanStats,
  type Finding,
  type ProgressListener,
  type RegisteredAgentSnapshot,
  type ScanStats,
} from './types.js';

/** The slice of the audit store discovery reads: `store.audit` satisfies it. */
export interface AuditSource {
  head(): Promise<{ seq: number }>;
  list(afterSeq: number, limit: number): Promise<AuditEntry[]>;
}

export interface TrafficScanOptions {
  audit: AuditSource;
  registry: readonly RegisteredAgentSnapshot[];
  endpoints: readonly Pick<ProviderEndpoint, 'provider' | 'hosts'>[];
  /** How many of the latest entries to read. */
  window: number;
  pageSize?: number;
  onProgress?: ProgressListener;
}

/** Reads the latest `window` audit entries for LLM-gateway and egress-proxy traffic discovery should know of. */
export async function scanTraffic(
  options: TrafficScanOptions,
): Promise<{ findings: Finding[]; stats: ScanStats }> {
  const stats = emptyScanStats();
  const accumulator = createTrafficAccumulator(options.registry, options.endpoints);
  const head = (await options.audit.head()).seq;
  const from = Math.max(0, head - options.window);
  const pageSize = options.pageSize ?? 1000;
  let after = from;
  stats.traffic.fromSeq = from + 1;
  while (after < head) {
    const page = await options.audit.list(after, pageSize);
    if (page.length === 0) break;
    for (const entry of page) accumulator.add(entry);
    stats.traffic.entriesRead += page.length;
    after = page.at(-1)?.seq ?? head;
    options.onProgress?.({ phase: 'traffic', done: after - from, total: head - from });
  }
  stats.traffic.toSeq = after;
  return { findings: accumulator.findings(), stats };
}
