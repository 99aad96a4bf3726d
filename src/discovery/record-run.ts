import { auditedTransaction } from '../audit/audited-transaction.js';
import type { Clock } from '../lib/clock.js';
import { createId } from '../lib/ids.js';
import type { Store } from '../store/index.js';
import type { DiscoveryRunRecord, RunHistory } from './run-record.js';

const MAX_SHADOW_EVENTS = 100;

/**
 * Keeps a run in the history (candidates and findings with first and last sighting) and audits it: one
 * `discovery.completed`, and a `discovery.shadow_found` for each unknown candidate seen for the first time.
 */
export async function recordDiscoveryRun(
  deps: { store: Store; clock: Clock },
  actor: string,
  record: DiscoveryRunRecord,
  source: 'cli' | 'schedule' | 'api',
): Promise<RunHistory> {
  const now = deps.clock.now();
  const runId = createId('dsc');
  return auditedTransaction(deps, actor, async (tx, emit) => {
    const known = new Map(
      (await tx.discovery.findCandidates(record.candidates.map((candidate) => candidate.id))).map((row) => [
        row.id,
        row,
      ]),
    );
    await tx.discovery.upsertCandidates(
      record.candidates.map((candidate) => ({
        id: candidate.id,
        name: candidate.name,
        kind: candidate.kind,
        host: record.host,
        status: candidate.status,
        agentId: candidate.agentId,
        confidence: Math.round(candidate.confidence * 100),
        providers: candidate.providers,
        owner: candidate.owner,
        firstSeen: known.get(candidate.id)?.firstSeen ?? now,
        lastSeen: now,
        firstRun: known.get(candidate.id)?.firstRun ?? runId,
        lastRun: runId,
      })),
    );
    await tx.discovery.upsertFindings(
      record.candidates.flatMap((candidate) =>
        candidate.findings.map((finding) => ({
          id: finding.id,
          candidateId: candidate.id,
          kind: finding.kind,
          source: finding.source,
          summary: finding.summary,
          location: finding.where,
          firstSeen: now,
          lastSeen: now,
          lastRun: runId,
        })),
      ),
    );
    const fresh = record.candidates.filter((candidate) => !known.has(candidate.id));
    const newUnknown = fresh.filter((candidate) => candidate.status === 'unknown');
    await tx.discovery.insertRun({
      id: runId,
      startedAt: record.startedAt,
      finishedAt: now,
      host: record.host,
      source,
      actor,
      summary: { ...record.summary, new: fresh.length, newUnknown: newUnknown.length },
    });
    emit({
      action: 'discovery.completed',
      target: runId,
      details: { source, host: record.host, ...record.summary, newUnknown: newUnknown.length },
    });
    for (const candidate of newUnknown.slice(0, MAX_SHADOW_EVENTS)) {
      emit({
        action: 'discovery.shadow_found',
        target: candidate.id,
        details: {
          run: runId,
          name: candidate.name,
          kind: candidate.kind,
          confidence: candidate.confidence,
          providers: candidate.providers,
          evidence: candidate.findings.slice(0, 3).map((finding) => `${finding.summary} — ${finding.where}`),
        },
      });
    }
    const candidates: RunHistory['candidates'] = {};
    for (const candidate of record.candidates) {
      const firstSeen = known.get(candidate.id)?.firstSeen ?? now;
      candidates[candidate.id] = {
        firstSeen: new Date(firstSeen).toISOString(),
        isNew: !known.has(candidate.id),
      };
    }
    return { runId, candidates };
  });
}
