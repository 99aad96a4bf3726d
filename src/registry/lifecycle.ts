import { auditedTransaction } from '../audit/audited-transaction.js';
import type { RegistryDeps } from './deps.js';
import type { Agent } from './types.js';

/** Which agents have been orphaned longer than the grace period and must now be suspended. Pure. */
export function agentsPastOrphanGrace(agents: readonly Agent[], now: number, graceMs: number): Agent[] {
  return agents.filter(
    (agent) => agent.state === 'active' && agent.orphanedAt !== null && now - agent.orphanedAt >= graceMs,
  );
}

export interface LifecycleSweepResult {
  suspended: string[];
  expiredAssertionsPurged: number;
}

/**
 * The periodic housekeeping of ownership: suspends agents orphaned past the grace period, and forgets client
 * assertion ids that can no longer be replayed. Safe to run from several processes at once.
 */
export async function sweepLifecycle(
  deps: RegistryDeps,
  options: { orphanGracePeriodMs: number; actor?: string },
): Promise<LifecycleSweepResult> {
  const actor = options.actor ?? 'system';
  const suspended = await auditedTransaction(deps, actor, async (tx, emit) => {
    const now = deps.clock.now();
    const due = agentsPastOrphanGrace(
      await tx.agents.list({ state: 'active', orphanedBefore: now - options.orphanGracePeriodMs }),
      now,
      options.orphanGracePeriodMs,
    );
    for (const agent of due) {
      await tx.agents.update(agent.id, {
        state: 'suspended',
        stateReason: 'orphaned: grace period expired',
        updatedAt: now,
      });
      emit({
        action: 'agent.suspended',
        target: agent.id,
        details: {
          from: 'active',
          to: 'suspended',
          reason: 'orphan_grace_expired',
          orphanedAt: agent.orphanedAt,
        },
      });
    }
    return due.map((agent) => agent.id);
  });
  const expiredAssertionsPurged = await deps.store.usedAssertions.purgeExpired(deps.clock.now());
  return { suspended, expiredAssertionsPurged };
}
