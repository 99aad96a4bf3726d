import { compileNameMatcher } from '../../policy/name-matcher.js';
import { mayEverRun } from '../../policy/visibility.js';
import type { PolicyRuntime } from '../../policy-runtime/index.js';
import { principalOfAgent } from '../../policy-runtime/principal.js';
import type { Agent } from '../../registry/types.js';
import type { Repositories } from '../../store/index.js';
import { compareToPins, pinsByTool } from './compare-to-pins.js';
import { parseDefinition } from './tool-definition.js';
import type { HashedTool, ObservedTool, PinBaseline, PinComparison, ToolPin } from './types.js';

/** One agent's tools as the store knows them: observed upstream, declared, usable, pinned and held. */
export interface AgentTools {
  agent: Agent;
  /** Undefined while the agent was never approved: pinning does not apply to it yet. */
  baseline: PinBaseline | undefined;
  pins: Map<string, ToolPin>;
  /** Observed tools the agent's manifest declares or the active policy lets it use. */
  relevant: HashedTool[];
  /** Observed tools the active policy lets the agent use: those held when not pinned. */
  usable: HashedTool[];
  /** Of `usable` against the pins; null without a baseline. */
  comparison: PinComparison | null;
}

/** An observed tool as `compareToPins` takes it: its stored canonical text is what was hashed. */
export function hashedFromObserved(observed: ObservedTool): HashedTool {
  return {
    tool: observed.tool,
    upstream: observed.upstream,
    definition: parseDefinition(observed.definition, observed.tool),
    canonical: observed.definition,
    hash: observed.hash,
  };
}

/**
 * Loads an agent's tools and compares them with its pins; `observed` may be passed when already loaded. Without
 * `policies` only the manifest's tools count (a registry used on its own, with no policy runtime).
 */
export async function loadAgentTools(
  repos: Repositories,
  policies: Pick<PolicyRuntime, 'active'> | undefined,
  agent: Agent,
  observed?: readonly ObservedTool[],
): Promise<AgentTools> {
  const [baseline, pinList, manifest, principal, tools] = await Promise.all([
    repos.toolPins.baseline(agent.id),
    repos.toolPins.listPins(agent.id),
    agent.manifestVersion === null ? undefined : repos.manifests.get(agent.id, agent.manifestVersion),
    principalOfAgent(repos, agent),
    observed ?? repos.toolPins.listObserved(),
  ]);
  const declared = compileNameMatcher(manifest?.manifest.tools ?? []);
  const bundle = policies?.active();
  const relevant: HashedTool[] = [];
  const usable: HashedTool[] = [];
  for (const tool of tools) {
    const canUse = bundle !== undefined && mayEverRun(bundle, principal, tool.tool);
    if (!canUse && !declared(tool.tool)) continue;
    const hashed = hashedFromObserved(tool);
    relevant.push(hashed);
    if (canUse) usable.push(hashed);
  }
  const pins = pinsByTool(pinList);
  return {
    agent,
    baseline,
    pins,
    relevant,
    usable,
    comparison: baseline ? compareToPins(usable, pins) : null,
  };
}
