import { type CompiledBundle, decide, type Principal } from '../policy/index.js';
import { refusal, toAuthzenDecision } from './to-authzen-decision.js';
import { AGENT_SUBJECT_TYPE, toDecisionInput } from './to-decision-input.js';
import type { AuthzenDecision, AuthzenEvaluation } from './types.js';

/** What the registry says about an `agent` subject; the caller looks it up, this module does no I/O. */
export type AgentLookup =
  | { found: false }
  | { found: true; active: boolean; state: string; principal: Principal };

/**
 * Decides one AuthZEN evaluation with a compiled bundle. Pure. An `agent` subject must be a registered, active
 * agent (`agent` is required for one): an unknown agent is `agent_not_found` and a suspended or retired one
 * `agent_inactive`, both `decision: false`, whatever the policy says.
 */
export function decideEvaluation(
  bundle: CompiledBundle,
  evaluation: AuthzenEvaluation,
  options: { now: number; agent?: AgentLookup | undefined },
): AuthzenDecision {
  let registered: Principal | undefined;
  if (evaluation.subject.type === AGENT_SUBJECT_TYPE) {
    const { agent } = options;
    if (!agent?.found) {
      return refusal('agent_not_found', `no registered agent \`${evaluation.subject.id}\``);
    }
    if (!agent.active) {
      return refusal(
        'agent_inactive',
        `agent \`${agent.principal.name ?? agent.principal.id}\` is ${agent.state}`,
      );
    }
    registered = agent.principal;
  }
  const mapped = toDecisionInput(evaluation, { now: options.now, registered });
  if (!mapped.ok) return refusal(mapped.code, mapped.reason);
  return toAuthzenDecision(decide(bundle, mapped.input));
}
