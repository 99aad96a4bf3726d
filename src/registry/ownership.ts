import type { Emit } from '../audit/audited-transaction.js';
import type { Repositories } from '../store/index.js';

/**
 * Re-derives the orphan mark of every live agent of a team from its membership: a team with no active member
 * orphans its agents (they keep running until the grace period ends); a team that regains one clears the mark.
 */
export async function refreshTeamOwnership(tx: Repositories, teamId: string, now: number, emit: Emit) {
  const orphaned = (await tx.teams.countActiveMembers(teamId)) === 0;
  for (const agent of await tx.agents.list({ teamId })) {
    if (agent.state === 'retired') continue;
    if (orphaned && agent.orphanedAt === null) {
      await tx.agents.update(agent.id, { orphanedAt: now, updatedAt: now });
      emit({ action: 'agent.orphaned', target: agent.id, details: { teamId } });
    } else if (!orphaned && agent.orphanedAt !== null) {
      await tx.agents.update(agent.id, { orphanedAt: null, updatedAt: now });
      emit({ action: 'agent.unorphaned', target: agent.id, details: { teamId } });
    }
  }
}

/** Flags (or clears) `needs_sponsor` on the live agents a user sponsors, following the user's active flag. */
export async function refreshSponsorship(
  tx: Repositories,
  userId: string,
  active: boolean,
  now: number,
  emit: Emit,
) {
  for (const agent of await tx.agents.list({ sponsorId: userId })) {
    if (agent.state === 'retired' || agent.needsSponsor === !active) continue;
    await tx.agents.update(agent.id, { needsSponsor: !active, updatedAt: now });
    emit({
      action: active ? 'agent.sponsor_restored' : 'agent.needs_sponsor',
      target: agent.id,
      details: { userId },
    });
  }
}
