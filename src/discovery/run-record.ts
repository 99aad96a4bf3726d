import { z } from 'zod';
import { finishReport } from './build-report.js';
import type { DiscoveryReport } from './types.js';

const MAX_CANDIDATES = 10_000;
const MAX_FINDINGS = 200;

/** What history keeps of a run: candidates with their findings' summaries (never contents or secrets). */
export const DiscoveryRunRecordSchema = z.strictObject({
  startedAt: z.number().int().nonnegative(),
  host: z.string().min(1).max(253),
  summary: z.strictObject({
    found: z.number().int().nonnegative(),
    registered: z.number().int().nonnegative(),
    approved: z.number().int().nonnegative(),
    unknown: z.number().int().nonnegative(),
  }),
  candidates: z
    .array(
      z.strictObject({
        id: z.string().regex(/^cand_[0-9a-f]{12}$/),
        name: z.string().min(1).max(63),
        kind: z.enum(['process', 'project', 'caller', 'agent']),
        status: z.enum(['unknown', 'registered', 'approved']),
        agentId: z.string().max(100).nullable(),
        confidence: z.number().min(0).max(1),
        providers: z.array(z.string().max(64)).max(100),
        owner: z.string().max(300).nullable(),
        findings: z
          .array(
            z.strictObject({
              id: z.string().regex(/^fnd_[0-9a-f]{16}$/),
              kind: z.string().max(64),
              source: z.enum(['host', 'path', 'traffic', 'logs']),
              summary: z.string().max(2000),
              where: z.string().max(2000),
            }),
          )
          .max(MAX_FINDINGS),
      }),
    )
    .max(MAX_CANDIDATES),
});

export type DiscoveryRunRecord = z.output<typeof DiscoveryRunRecordSchema>;

/** History as a run left it: for each candidate, when it was first seen and whether that was this run. */
export interface RunHistory {
  runId: string;
  candidates: Record<string, { firstSeen: string; isNew: boolean }>;
}

/** The part of a report history keeps. Pure. */
export function toRunRecord(report: DiscoveryReport, startedAt: number): DiscoveryRunRecord {
  return {
    startedAt,
    host: report.host.slice(0, 253),
    summary: {
      found: report.summary.found,
      registered: report.summary.registered,
      approved: report.summary.approved,
      unknown: report.summary.unknown,
    },
    candidates: report.candidates.slice(0, MAX_CANDIDATES).map((candidate) => ({
      id: candidate.id,
      name: candidate.name,
      kind: candidate.kind,
      status: candidate.registry.status,
      agentId: candidate.registry.agentId,
      confidence: candidate.confidence,
      providers: candidate.providers.slice(0, 100),
      owner: candidate.owner?.owner.slice(0, 300) ?? null,
      findings: candidate.evidence.slice(0, MAX_FINDINGS).map((finding) => ({
        id: finding.id,
        kind: finding.kind,
        source: finding.source,
        summary: finding.summary.slice(0, 2000),
        where: finding.where.slice(0, 2000),
      })),
    })),
  };
}

/** Marks each candidate with when it was first seen and whether it is new, and recounts. Pure. */
export function applyHistory(report: DiscoveryReport, history: RunHistory): DiscoveryReport {
  const candidates = report.candidates.map((candidate) => {
    const seen = history.candidates[candidate.id];
    return seen ? { ...candidate, firstSeen: seen.firstSeen, isNew: seen.isNew } : candidate;
  });
  return finishReport({ ...report, candidates, registry: null });
}
