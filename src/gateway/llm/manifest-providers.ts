import { GatehouseError } from '../../errors/index.js';
import type { Agent } from '../../registry/index.js';
import type { Store } from '../../store/index.js';

const MAX_CACHED = 10_000;

/**
 * Refuses (`llm_provider_not_in_manifest`) a provider the agent's current manifest does not declare, when the
 * manifest declares any LLM providers at all; an agent that declares none is left to policy alone. Manifest
 * versions never change once pushed, so they are cached by agent and version.
 */
export function createManifestProviderCheck(store: Store) {
  const cache = new Map<string, readonly string[]>();
  return async (agent: Agent, provider: string): Promise<void> => {
    if (agent.manifestVersion === null) return;
    const cacheKey = `${agent.id}@${agent.manifestVersion}`;
    let providers = cache.get(cacheKey);
    if (!providers) {
      const version = await store.manifests.get(agent.id, agent.manifestVersion);
      providers = version?.manifest.llmProviders ?? [];
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(cacheKey, providers);
    }
    if (providers.length === 0 || providers.includes(provider)) return;
    throw new GatehouseError(
      'llm_provider_not_in_manifest',
      `\`${provider}\` is not among the LLM providers of agent \`${agent.name}\`'s manifest (version ${agent.manifestVersion})`,
      { details: { provider, manifestVersion: agent.manifestVersion } },
    );
  };
}
