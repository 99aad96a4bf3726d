import type { Agent, Team, User } from '../../src/registry/types.js';
import type { Store } from '../../src/store/index.js';

/** A team record as the store keeps it: `team_1`, created at the epoch, unless overridden. */
export function makeTeam(overrides: Partial<Team> = {}): Team {
  return { id: 'team_1', name: 't', description: null, createdAt: 0, updatedAt: 0, ...overrides };
}

/** An active user `usr_1`, created at the epoch, unless overridden. */
export function makeUser(overrides: Partial<User> = {}): User {
  return {
    id: 'usr_1',
    email: 'a@example.com',
    displayName: null,
    active: true,
    createdAt: 0,
    updatedAt: 0,
    deactivatedAt: null,
    ...overrides,
  };
}

/** An active, unreviewed agent `agt_1` of `team_1` sponsored by `usr_1`, unless overridden. */
export function makeAgent(overrides: Partial<Agent> = {}): Agent {
  return {
    id: 'agt_1',
    name: 'one',
    description: null,
    teamId: 'team_1',
    sponsorId: 'usr_1',
    labels: {},
    reviewStatus: 'unreviewed',
    reviewedVersion: null,
    reviewedBy: null,
    reviewedAt: null,
    reviewNote: null,
    state: 'active',
    stateReason: null,
    needsSponsor: false,
    orphanedAt: null,
    manifestVersion: null,
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}

/** Inserts `team_1`, its member-to-be `usr_1` and an agent they own (`agt_1` unless overridden); returns it. */
export async function seedAgent(store: Store, overrides: Partial<Agent> = {}): Promise<Agent> {
  await store.teams.insert(makeTeam());
  await store.users.insert(makeUser());
  const agent = makeAgent(overrides);
  await store.agents.insert(agent);
  return agent;
}
