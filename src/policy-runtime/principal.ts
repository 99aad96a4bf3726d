import type { Principal } from '../policy/index.js';
import type { Agent } from '../registry/index.js';
import type { Repositories } from '../store/index.js';

/** The policy engine's view of a registered agent, as it is right now. */
export async function principalOfAgent(store: Pick<Repositories, 'teams'>, agent: Agent): Promise<Principal> {
  const team = await store.teams.findById(agent.teamId);
  return {
    id: agent.id,
    name: agent.name,
    ...(team ? { team: team.name } : {}),
    labels: agent.labels,
    review: agent.reviewStatus,
  };
}
