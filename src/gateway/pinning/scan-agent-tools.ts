import type { Agent } from '../../registry/types.js';
import { loadAgentTools } from './agent-tools.js';
import { scanDefinition, worstSeverity } from './scan-definition.js';
import type { PinningDeps } from './tool-pinning.js';
import type { FindingSeverity, ScanFinding } from './types.js';

/** `pinned`: matches its pin; `changed`/`new`: held; `unpinned`: the agent was never approved. */
export type ScannedToolStatus = 'pinned' | 'changed' | 'new' | 'unpinned';

export interface ScannedTool {
  tool: string;
  upstream: string;
  hash: string;
  status: ScannedToolStatus;
  /** True when the active policy lets the agent use the tool (otherwise only its manifest names it). */
  usable: boolean;
  findings: ScanFinding[];
}

export interface AgentToolScan {
  agentId: string;
  agentName: string;
  /** `active` once the agent was approved: tools must then match their pins. */
  pinning: 'active' | 'inactive';
  tools: ScannedTool[];
  summary: { tools: number; findings: number; worst: FindingSeverity | null };
}

/**
 * Scans the definitions of the tools an agent may use (observed upstream, and declared by its manifest or
 * allowed by the active policy) for text aimed at the model. Shown to reviewers at review time and by
 * `gatehouse tools scan`.
 */
export async function scanAgentTools(deps: PinningDeps, agent: Agent): Promise<AgentToolScan> {
  const loaded = await loadAgentTools(deps.store, deps.policies, agent);
  const usable = new Set(loaded.usable.map((tool) => tool.tool));
  const tools: ScannedTool[] = loaded.relevant.map((tool) => {
    const pin = loaded.pins.get(tool.tool);
    const canUse = usable.has(tool.tool);
    const status: ScannedToolStatus = !loaded.baseline
      ? 'unpinned'
      : pin?.hash === tool.hash
        ? 'pinned'
        : !canUse
          ? 'unpinned'
          : pin
            ? 'changed'
            : 'new';
    return {
      tool: tool.tool,
      upstream: tool.upstream,
      hash: tool.hash,
      status,
      usable: canUse,
      findings: scanDefinition(tool.definition),
    };
  });
  const findings = tools.flatMap((tool) => tool.findings);
  return {
    agentId: agent.id,
    agentName: agent.name,
    pinning: loaded.baseline ? 'active' : 'inactive',
    tools,
    summary: { tools: tools.length, findings: findings.length, worst: worstSeverity(findings) },
  };
}
