import { GatehouseError } from '../errors/index.js';
import type { Repositories } from '../store/index.js';
import type { Agent, Team, User } from './types.js';

/** Finds a team by id (`team_…`) or name. */
export async function requireTeam(repos: Repositories, ref: string): Promise<Team> {
  const team = ref.startsWith('team_') ? await repos.teams.findById(ref) : await repos.teams.findByName(ref);
  if (!team) throw new GatehouseError('team_not_found', `no team \`${ref}\``);
  return team;
}

/** Finds a user by id (`usr_…`) or email. */
export async function requireUser(repos: Repositories, ref: string): Promise<User> {
  const user = ref.startsWith('usr_')
    ? await repos.users.findById(ref)
    : await repos.users.findByEmail(ref.toLowerCase());
  if (!user) throw new GatehouseError('user_not_found', `no user \`${ref}\``);
  return user;
}

/** Finds an agent by id (`agt_…`) or name. */
export async function requireAgent(repos: Repositories, ref: string): Promise<Agent> {
  const agent = ref.startsWith('agt_')
    ? await repos.agents.findById(ref)
    : await repos.agents.findByName(ref);
  if (!agent) throw new GatehouseError('agent_not_found', `no agent \`${ref}\``);
  return agent;
}

export async function requireActiveUser(repos: Repositories, ref: string): Promise<User> {
  const user = await requireUser(repos, ref);
  if (!user.active) throw new GatehouseError('user_inactive', `user \`${user.email}\` is deactivated`);
  return user;
}
