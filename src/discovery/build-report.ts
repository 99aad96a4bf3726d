import { groupCandidates } from './group-candidates.js';
import { matchRegistry } from './match-registry.js';
import type {
  Candidate,
  DiscoveryReport,
  DiscoveryScope,
  DiscoverySummary,
  Finding,
  RegisteredAgentSnapshot,
  ScanStats,
} from './types.js';

export interface BuildReportInput {
  findings: readonly Finding[];
  /** The registry to compare with; null when offline (every candidate is then unknown). */
  registry: readonly RegisteredAgentSnapshot[] | null;
  stats: ScanStats;
  scope: DiscoveryScope;
  host: string;
  now: number;
  warnings?: readonly string[];
}

const STATUS_ORDER = { unknown: 0, registered: 1, approved: 2 } as const;

/** Groups, scores and matches findings, and leads with the numbers: found, registered, approved, unknown. Pure. */
export function buildReport(input: BuildReportInput): DiscoveryReport {
  const grouped = groupCandidates(input.findings, input.host);
  const candidates = matchRegistry(grouped, input.registry ?? []).sort(
    (a, b) =>
      STATUS_ORDER[a.registry.status] - STATUS_ORDER[b.registry.status] ||
      b.confidence - a.confidence ||
      a.name.localeCompare(b.name),
  );
  return finishReport({
    generatedAt: new Date(input.now).toISOString(),
    host: input.host,
    scope: input.scope,
    candidates,
    stats: input.stats,
    warnings: [...(input.warnings ?? [])],
    registry: input.registry,
  });
}

/** Recomputes the summary and headline after candidates changed (registration, history). */
export function finishReport(
  report: Omit<DiscoveryReport, 'summary' | 'headline'> & {
    registry: readonly RegisteredAgentSnapshot[] | null;
    summary?: DiscoverySummary;
  },
): DiscoveryReport {
  const { registry, summary: previous, ...rest } = report;
  const summary = summarize(report.candidates, registry, previous?.registry ?? null);
  return { ...rest, headline: headlineOf(summary), summary };
}

function summarize(
  candidates: readonly Candidate[],
  registry: readonly RegisteredAgentSnapshot[] | null,
  previousRegistry: DiscoverySummary['registry'],
): DiscoverySummary {
  const count = (test: (candidate: Candidate) => boolean) => candidates.filter(test).length;
  const withHistory = candidates.some((candidate) => candidate.isNew !== null);
  return {
    found: candidates.length,
    registered: count((candidate) => candidate.registry.status !== 'unknown'),
    approved: count((candidate) => candidate.registry.status === 'approved'),
    unknown: count((candidate) => candidate.registry.status === 'unknown'),
    newUnknown: withHistory
      ? count((candidate) => candidate.registry.status === 'unknown' && candidate.isNew === true)
      : null,
    byLevel: {
      high: count((candidate) => candidate.level === 'high'),
      medium: count((candidate) => candidate.level === 'medium'),
      low: count((candidate) => candidate.level === 'low'),
    },
    registry: registry
      ? {
          agents: registry.filter((agent) => agent.state !== 'retired').length,
          approved: registry.filter((agent) => agent.state !== 'retired' && agent.reviewStatus === 'approved')
            .length,
        }
      : previousRegistry,
  };
}

/** `47 agents found: 6 approved, 0 registered and not approved, 41 unknown (3 new)`. */
export function headlineOf(summary: DiscoverySummary): string {
  const agents = `${summary.found} ${summary.found === 1 ? 'agent' : 'agents'} found`;
  const fresh = summary.newUnknown ? ` (${summary.newUnknown} new)` : '';
  return (
    `${agents}: ${summary.approved} approved, ${summary.registered - summary.approved} registered and not ` +
    `approved, ${summary.unknown} unknown${fresh}`
  );
}
