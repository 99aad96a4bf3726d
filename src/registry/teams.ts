import { auditedTransaction } from '../audit/audited-transaction.js';
import { GatehouseError } from '../errors/index.js';
import { createId } from '../lib/ids.js';
import { UniqueViolationError } from '../store/index.js';
import type { RegistryDeps } from './deps.js';
import { requireTeam, requireUser } from './lookup.js';
import { refreshTeamOwnership } from './ownership.js';
import type { Team } from './types.js';

export async function createTeam(
  deps: RegistryDeps,
  actor: string,
  input: { name: string; description?: string | null },
): Promise<Team> {
  const now = deps.clock.now();
  const team: Team = {
    id: createId('team'),
    name: input.name,
    description: input.description ?? null,
    createdAt: now,
    updatedAt: now,
  };
  try {
    return await auditedTransaction(deps, actor, async (tx, emit) => {
      await tx.teams.insert(team);
      emit({ action: 'team.created', target: team.id, details: { name: team.name } });
      return team;
    });
  } catch (error) {
    if (error instanceof UniqueViolationError)
      throw new GatehouseError('team_exists', `team \`${input.name}\` already exists`);
    throw error;
  }
}

/** Adds a user to a team; an orphaned team's agents are no longer orphaned once an active member joins. */
export async function addTeamMember(deps: RegistryDeps, actor: string, teamRef: string, userRef: string) {
  return auditedTransaction(deps, actor, async (tx, emit) => {
    const team = await requireTeam(tx, teamRef);
    const user = await requireUser(tx, userRef);
    const now = deps.clock.now();
    if (await tx.teams.addMember(team.id, user.id, now)) {
      emit({ action: 'team.member_added', target: team.id, details: { userId: user.id, email: user.email } });
      await refreshTeamOwnership(tx, team.id, now, emit);
    }
    return { team, user };
  });
}

/** Removes a user from a team; the team's agents become orphaned if no active member is left. */
export async function removeTeamMember(deps: RegistryDeps, actor: string, teamRef: string, userRef: string) {
  return auditedTransaction(deps, actor, async (tx, emit) => {
    const team = await requireTeam(tx, teamRef);
    const user = await requireUser(tx, userRef);
    const now = deps.clock.now();
    if (await tx.teams.removeMember(team.id, user.id)) {
      emit({
        action: 'team.member_removed',
        target: team.id,
        details: { userId: user.id, email: user.email },
      });
      await refreshTeamOwnership(tx, team.id, now, emit);
    }
    return { team, user };
  });
}
