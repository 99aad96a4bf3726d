import { auditedTransaction } from '../audit/audited-transaction.js';
import { GatehouseError } from '../errors/index.js';
import { createId } from '../lib/ids.js';
import { UniqueViolationError } from '../store/index.js';
import type { RegistryDeps } from './deps.js';
import { requireTeam, requireUser } from './lookup.js';
import { refreshSponsorship, refreshTeamOwnership } from './ownership.js';
import type { User } from './types.js';

export async function createUser(
  deps: RegistryDeps,
  actor: string,
  input: { email: string; displayName?: string | null; teams?: string[] },
): Promise<User> {
  const now = deps.clock.now();
  const user: User = {
    id: createId('usr'),
    email: input.email.toLowerCase(),
    displayName: input.displayName ?? null,
    active: true,
    createdAt: now,
    updatedAt: now,
    deactivatedAt: null,
  };
  try {
    return await auditedTransaction(deps, actor, async (tx, emit) => {
      await tx.users.insert(user);
      emit({ action: 'user.created', target: user.id, details: { email: user.email } });
      for (const teamRef of input.teams ?? []) {
        const team = await requireTeam(tx, teamRef);
        await tx.teams.addMember(team.id, user.id, now);
        emit({
          action: 'team.member_added',
          target: team.id,
          details: { userId: user.id, email: user.email },
        });
        await refreshTeamOwnership(tx, team.id, now, emit);
      }
      return user;
    });
  } catch (error) {
    if (error instanceof UniqueViolationError)
      throw new GatehouseError('user_exists', `user \`${user.email}\` already exists`);
    throw error;
  }
}

/**
 * Deactivates a person (they left, or lost access). Agents never die with a person: the ones they sponsor are
 * flagged `needs_sponsor` and keep running under their team; teams left with no active member orphan their agents.
 */
export async function deactivateUser(deps: RegistryDeps, actor: string, userRef: string): Promise<User> {
  return setUserActive(deps, actor, userRef, false);
}

export async function activateUser(deps: RegistryDeps, actor: string, userRef: string): Promise<User> {
  return setUserActive(deps, actor, userRef, true);
}

async function setUserActive(
  deps: RegistryDeps,
  actor: string,
  userRef: string,
  active: boolean,
): Promise<User> {
  return auditedTransaction(deps, actor, async (tx, emit) => {
    const user = await requireUser(tx, userRef);
    if (user.active === active) return user;
    const now = deps.clock.now();
    await tx.users.setActive(user.id, active, now);
    emit({
      action: active ? 'user.activated' : 'user.deactivated',
      target: user.id,
      details: { email: user.email },
    });
    await refreshSponsorship(tx, user.id, active, now, emit);
    for (const team of await tx.teams.listTeamsOfUser(user.id))
      await refreshTeamOwnership(tx, team.id, now, emit);
    return (await tx.users.findById(user.id)) as User;
  });
}
