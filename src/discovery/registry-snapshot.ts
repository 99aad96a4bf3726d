import type { Repositories } from '../store/index.js';
import type { RegisteredAgentSnapshot } from './types.js';

/** The registry as discovery compares with it: every agent with its labels, review, state and latest manifest. */
export async function loadRegistrySnapshot(
  repos: Pick<Repositories, 'agents' | 'manifests'>,
): Promise<RegisteredAgentSnapshot[]> {
  const agents = await repos.agents.list();
  return Promise.all(
    agents.map(async (agent) => {
      const manifest = agent.manifestVersion === null ? undefined : await repos.manifests.latest(agent.id);
      return {
        id: agent.id,
        name: agent.name,
        labels: agent.labels,
        reviewStatus: agent.reviewStatus,
        state: agent.state,
        manifestDigest: manifest?.digest ?? null,
        llmProviders: manifest?.manifest.llmProviders ?? [],
      };
    }),
  );
}
