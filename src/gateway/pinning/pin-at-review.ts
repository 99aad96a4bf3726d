import type { Emit } from '../../audit/audited-transaction.js';
import type { PolicyRuntime } from '../../policy-runtime/index.js';
import type { Agent } from '../../registry/types.js';
import type { Repositories } from '../../store/index.js';
import { loadAgentTools } from './agent-tools.js';
import { bumpPinEpoch } from './pin-cache-epoch.js';
import type { ToolPin } from './types.js';

const AUDITED_PIN_LIST = 200;

/**
 * Records, in the review's transaction, a pin of each observed upstream tool the approved agent may use (its
 * manifest's tool patterns such as `files.*` name it, or the active policy lets the agent use it), at the
 * definition gateways see now, and sets the agent's pin baseline: from here on a tool this agent sees must
 * match its pin or it is held. Pins of other tools (accepted one by one earlier) stay. Returns the pins.
 */
export async function pinToolsAtReview(
  tx: Repositories,
  emit: Emit,
  input: { agent: Agent; actor: string; now: number; policies?: Pick<PolicyRuntime, 'active'> },
): Promise<ToolPin[]> {
  const { agent, actor, now } = input;
  const { relevant } = await loadAgentTools(tx, input.policies, agent);
  const pins: ToolPin[] = relevant.map((tool) => ({
    agentId: agent.id,
    tool: tool.tool,
    upstream: tool.upstream,
    hash: tool.hash,
    definition: tool.canonical,
    pinnedAt: now,
    pinnedBy: actor,
  }));
  await tx.toolPins.savePins(pins);
  await tx.toolPins.saveBaseline({
    agentId: agent.id,
    manifestVersion: agent.manifestVersion,
    establishedAt: now,
    establishedBy: actor,
    updatedAt: now,
  });
  emit({
    action: 'tool.pinned',
    target: agent.id,
    details: {
      version: agent.manifestVersion,
      count: pins.length,
      tools: pins.slice(0, AUDITED_PIN_LIST).map((pin) => ({ tool: pin.tool, hash: pin.hash })),
      ...(pins.length > AUDITED_PIN_LIST ? { truncated: true } : {}),
    },
  });
  bumpPinEpoch();
  return pins;
}
