import type { Decision } from '../policy/index.js';
import type { AuthzenDecision, AuthzenDecisionCode, ItemError } from './types.js';

/**
 * Turns a policy decision into an AuthZEN Decision. `allow` and `flag` permit (`true`); `deny` and `approve`
 * refuse (`false`): a PDP answer cannot wait for a human, so a call that needs approval is not permitted through
 * AuthZEN. The context carries the reason (AuthZEN `reason_admin`), the effect, the code and the rule ids.
 */
export function toAuthzenDecision(decision: Decision): AuthzenDecision {
  const permitted = decision.effect === 'allow' || decision.effect === 'flag';
  const reason =
    decision.effect === 'approve'
      ? `approval required (${decision.approval?.approvers ?? 1} approver(s)), which an AuthZEN decision cannot ` +
        `wait for: ${decision.reason}`
      : decision.reason;
  return {
    decision: permitted,
    context: {
      reason_admin: { en: reason },
      effect: decision.effect,
      code: decision.code,
      rule_ids: [...decision.ruleIds],
      policy_version: decision.bundleVersion,
      ...(decision.approval ? { approvers: decision.approval.approvers } : {}),
    },
  };
}

/** A refusal decided before any policy ran (an unknown or inactive agent, an unsupported action). */
export function refusal(
  code: Exclude<AuthzenDecisionCode, Decision['code']>,
  reason: string,
): AuthzenDecision {
  return { decision: false, context: { reason_admin: { en: reason }, effect: 'deny', code, rule_ids: [] } };
}

/** A batch item that could not be evaluated: decisions default to closed, the context says why. */
export function itemErrorDecision(error: ItemError): AuthzenDecision {
  return { decision: false, context: { error } };
}
