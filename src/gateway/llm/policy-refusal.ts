import { GatehouseError } from '../../errors/index.js';
import type { Decision } from '../../policy/index.js';

/** The error an agent gets for a request the policy denied or sent for approval, with the deciding rules. */
export function policyRefusal(decision: Decision): GatehouseError {
  const code =
    decision.effect === 'approve'
      ? 'approval_required'
      : decision.code === 'policy_eval_error'
        ? 'policy_eval_error'
        : decision.code === 'session_terminated'
          ? 'session_terminated'
          : 'policy_denied';
  return new GatehouseError(code, decision.reason, {
    details: { effect: decision.effect, decision: decision.code, ruleIds: decision.ruleIds },
  });
}
