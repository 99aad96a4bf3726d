import type { Agent } from '../../registry/types.js';
import { type AgentTools, loadAgentTools } from './agent-tools.js';
import { diffDefinitions } from './diff-definitions.js';
import { scanDefinition } from './scan-definition.js';
import { parseDefinition } from './tool-definition.js';
import type { PinningDeps } from './tool-pinning.js';
import type { DefinitionDiff, HoldKind, ScanFinding, ToolDefinition } from './types.js';

/** A held tool awaiting a reviewer: what changed (or what is new), and what the scanner found in it. */
export interface PendingTool {
  agentId: string;
  agentName: string;
  tool: string;
  upstream: string;
  kind: HoldKind;
  /** The definition's hash now; `tools accept --hash` takes it to accept exactly what was looked at. */
  hash: string;
  pinnedHash: string | null;
  /** When a gateway first held this definition for the agent; null if none has yet. */
  heldAt: number | null;
  /** For a changed tool: unified diffs of description and input schema, pinned against current. */
  diff: DefinitionDiff | null;
  /** The current definition. */
  current: ToolDefinition;
  findings: ScanFinding[];
}

/** The held tools of one agent, from its loaded tools. */
export async function pendingOf(deps: PinningDeps, tools: AgentTools): Promise<PendingTool[]> {
  const { agent, comparison } = tools;
  if (!comparison) return [];
  const holds = new Map(
    (await deps.store.toolPins.listHolds(agent.id)).map((hold) => [`${hold.tool}\u0000${hold.hash}`, hold]),
  );
  const heldAt = (tool: string, hash: string) => holds.get(`${tool}\u0000${hash}`)?.heldAt ?? null;
  const pending: PendingTool[] = [
    ...comparison.changed.map((change) => ({
      agentId: agent.id,
      agentName: agent.name,
      tool: change.tool,
      upstream: change.new.upstream,
      kind: 'changed' as const,
      hash: change.new.hash,
      pinnedHash: change.old.hash,
      heldAt: heldAt(change.tool, change.new.hash),
      diff: diffDefinitions(parseDefinition(change.old.definition, change.tool), change.new.definition),
      current: change.new.definition,
      findings: scanDefinition(change.new.definition),
    })),
    ...comparison.new.map((added) => ({
      agentId: agent.id,
      agentName: agent.name,
      tool: added.tool,
      upstream: added.upstream,
      kind: 'new' as const,
      hash: added.hash,
      pinnedHash: null,
      heldAt: heldAt(added.tool, added.hash),
      diff: null,
      current: added.definition,
      findings: scanDefinition(added.definition),
    })),
  ];
  return pending.sort((a, b) => a.tool.localeCompare(b.tool));
}

/**
 * Tools held for review, of one agent or of every agent pinning applies to, compared against the tools
 * gateways last observed upstream and the active policy.
 */
export async function listPendingTools(deps: PinningDeps, agents: readonly Agent[]): Promise<PendingTool[]> {
  const observed = await deps.store.toolPins.listObserved();
  const pending: PendingTool[] = [];
  for (const agent of agents) {
    pending.push(
      ...(await pendingOf(deps, await loadAgentTools(deps.store, deps.policies, agent, observed))),
    );
  }
  return pending;
}

/** Every agent pinning applies to (it has a baseline), retired ones excepted. */
export async function pinnedAgents(deps: PinningDeps): Promise<Agent[]> {
  const agents: Agent[] = [];
  for (const baseline of await deps.store.toolPins.listBaselines()) {
    const agent = await deps.store.agents.findById(baseline.agentId);
    if (agent && agent.state !== 'retired') agents.push(agent);
  }
  return agents;
}
