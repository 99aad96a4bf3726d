import { auditedTransaction } from '../../audit/audited-transaction.js';
import { GatehouseError } from '../../errors/index.js';
import { requireAgent } from '../../registry/lookup.js';
import { loadAgentTools } from './agent-tools.js';
import { bumpPinEpoch } from './pin-cache-epoch.js';
import type { PinningDeps } from './tool-pinning.js';
import type { HoldKind, ToolPin } from './types.js';

export interface AcceptToolsInput {
  /** One held tool (`<upstream>.<tool>`); or `all`. */
  tool?: string;
  /** Every tool held for the agent. */
  all?: boolean;
  /** The hash the reviewer looked at (from `tools pending`): refused if the tool changed again since. */
  hash?: string;
}

export interface AcceptedTool {
  tool: string;
  upstream: string;
  kind: HoldKind;
  hash: string;
  previousHash: string | null;
}

/**
 * Pins the current definition of held tools for an agent (one, or all), so the agent sees them again. The pins
 * and their `tool.accepted` audit entries commit together.
 */
export async function acceptTools(
  deps: PinningDeps,
  actor: string,
  agentRef: string,
  input: AcceptToolsInput,
): Promise<AcceptedTool[]> {
  if ((input.tool === undefined) === (input.all !== true)) {
    throw new GatehouseError('invalid_request', 'name one tool, or accept `all` held tools');
  }
  if (input.hash !== undefined && input.all) {
    throw new GatehouseError('invalid_request', '`hash` goes with one tool, not with `all`');
  }
  const accepted = await auditedTransaction(deps, actor, async (tx, emit) => {
    const agent = await requireAgent(tx, agentRef);
    const tools = await loadAgentTools(tx, deps.policies, agent);
    if (!tools.comparison) {
      throw new GatehouseError(
        'tool_not_held',
        `agent \`${agent.name}\` was never approved, so no tool is held for it; approve it to pin its tools`,
      );
    }
    let chosen: AcceptedTool[] = [
      ...tools.comparison.changed.map((change) => ({
        tool: change.tool,
        upstream: change.new.upstream,
        kind: 'changed' as const,
        hash: change.new.hash,
        previousHash: change.old.hash,
      })),
      ...tools.comparison.new.map((added) => ({
        tool: added.tool,
        upstream: added.upstream,
        kind: 'new' as const,
        hash: added.hash,
        previousHash: null,
      })),
    ];
    if (input.tool !== undefined) {
      const name = input.tool;
      chosen = chosen.filter((held) => held.tool === name);
      if (chosen.length === 0) {
        const known = tools.relevant.some((tool) => tool.tool === name);
        throw new GatehouseError(
          'tool_not_held',
          known
            ? `\`${name}\` is not held for agent \`${agent.name}\`: it matches its pin, or the policy never lets the agent use it`
            : `no tool \`${name}\` is offered to agent \`${agent.name}\``,
          { details: { tool: name } },
        );
      }
      const [only] = chosen;
      if (only && input.hash !== undefined && input.hash !== only.hash) {
        throw new GatehouseError(
          'tool_hash_mismatch',
          `\`${name}\` changed again since hash \`${input.hash.slice(0, 12)}\`: look at \`tools pending\` again`,
          { details: { tool: name, hash: only.hash } },
        );
      }
    }
    const now = deps.clock.now();
    const byName = new Map(tools.usable.map((tool) => [tool.tool, tool]));
    const pins: ToolPin[] = chosen.flatMap((held) => {
      const current = byName.get(held.tool);
      return current
        ? [
            {
              agentId: agent.id,
              tool: held.tool,
              upstream: held.upstream,
              hash: current.hash,
              definition: current.canonical,
              pinnedAt: now,
              pinnedBy: actor,
            },
          ]
        : [];
    });
    await tx.toolPins.savePins(pins);
    for (const held of chosen) emit({ action: 'tool.accepted', target: agent.id, details: { ...held } });
    return chosen;
  });
  bumpPinEpoch();
  return accepted;
}
