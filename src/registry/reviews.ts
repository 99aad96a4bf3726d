import { auditedTransaction } from '../audit/audited-transaction.js';
import { GatehouseError } from '../errors/index.js';
import { pinToolsAtReview } from '../gateway/pinning/pin-at-review.js';
import type { PolicyRuntime } from '../policy-runtime/index.js';
import type { RegistryDeps } from './deps.js';
import { requireActiveUser, requireAgent } from './lookup.js';
import type { Agent } from './types.js';

export interface ReviewInput {
  decision: 'approve' | 'reject';
  note?: string;
  /**
   * The reviewing person. Taken from the caller's identity when the caller is bound to a user; otherwise it must
   * be named. Either way it may not be the agent's sponsor: nobody approves their own agent.
   */
  reviewer?: string;
}

/**
 * Approves or rejects the agent's current manifest version. An approval also pins the upstream tools the agent
 * may use; with `policies` those the active policy allows count too, not only those its manifest names.
 */
export async function reviewAgent(
  deps: RegistryDeps & { policies?: Pick<PolicyRuntime, 'active'> },
  caller: { actor: string; userId: string | null },
  agentRef: string,
  input: ReviewInput,
): Promise<Agent> {
  return auditedTransaction(deps, caller.actor, async (tx, emit) => {
    const agent = await requireAgent(tx, agentRef);
    const reviewerRef = caller.userId ?? input.reviewer;
    if (reviewerRef === undefined) {
      throw new GatehouseError(
        'reviewer_required',
        'name the reviewing user (`reviewer`), or use a user-bound token',
      );
    }
    const reviewer = await requireActiveUser(tx, reviewerRef);
    if (
      caller.userId !== null &&
      input.reviewer !== undefined &&
      input.reviewer.toLowerCase() !== reviewer.email
    ) {
      throw new GatehouseError('forbidden', 'a user-bound token reviews as its own user only');
    }
    if (reviewer.id === agent.sponsorId) {
      throw new GatehouseError(
        'reviewer_is_sponsor',
        `\`${reviewer.email}\` sponsors agent \`${agent.name}\` and may not review it`,
      );
    }
    if (agent.manifestVersion === null) {
      throw new GatehouseError(
        'manifest_missing',
        `agent \`${agent.name}\` has no manifest to review; push one first`,
      );
    }
    if (agent.state === 'retired') {
      throw new GatehouseError('invalid_state_transition', `agent \`${agent.name}\` is retired`);
    }
    const now = deps.clock.now();
    const status = input.decision === 'approve' ? 'approved' : 'rejected';
    const updated = await tx.agents.update(agent.id, {
      reviewStatus: status,
      reviewedVersion: agent.manifestVersion,
      reviewedBy: reviewer.id,
      reviewedAt: now,
      reviewNote: input.note ?? null,
      updatedAt: now,
    });
    emit({
      action: input.decision === 'approve' ? 'agent.review_approved' : 'agent.review_rejected',
      target: agent.id,
      details: { version: agent.manifestVersion, reviewerId: reviewer.id, note: input.note ?? null },
    });
    // An approval pins the definitions of the upstream tools the agent may use, as gateways see them now.
    if (input.decision === 'approve')
      await pinToolsAtReview(tx, emit, {
        agent: updated as Agent,
        actor: caller.actor,
        now,
        policies: deps.policies,
      });
    return updated as Agent;
  });
}
