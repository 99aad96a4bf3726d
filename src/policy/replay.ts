import type { CompiledBundle } from './compiled-bundle.js';
import { decide } from './decide.js';
import { emptySessionState, recordCall } from './session-state.js';
import type { CallUser, ChainLink, Decision, Principal, SessionState, ToolCall } from './types.js';

/** Who runs a replayed session and under which scope. */
export interface ReplaySubject {
  principal: Principal;
  scope?: Record<string, unknown>;
  user?: CallUser;
  chain?: ChainLink[];
  sessionId?: string;
}

export interface ReplayCall extends ToolCall {
  /** Milliseconds since the epoch. */
  at: number;
  /** For `approve` decisions: did the human approve? Defaults to yes, so the call counts as run. */
  approved?: boolean;
}

export interface ReplayStep {
  call: ReplayCall;
  decision: Decision;
  /** State before the call was decided. */
  before: SessionState;
  /** State after the call's outcome was folded in. */
  after: SessionState;
}

/**
 * Drives one session through the engine the way the gateway does: decide, then fold the outcome into the
 * state. Used by `policy test`, `policy diff` and shadow evaluation, so all three agree with enforcement.
 */
export function replaySession(
  bundle: CompiledBundle,
  subject: ReplaySubject,
  calls: readonly ReplayCall[],
  initial: SessionState = emptySessionState(),
): ReplayStep[] {
  const steps: ReplayStep[] = [];
  let state = initial;
  for (const call of calls) {
    const decision = decide(bundle, {
      principal: subject.principal,
      call: { tool: call.tool, args: call.args },
      session: {
        ...(subject.sessionId === undefined ? {} : { id: subject.sessionId }),
        scope: subject.scope ?? {},
        state,
      },
      user: subject.user,
      chain: subject.chain ?? [],
      now: call.at,
    });
    const before = state;
    state = recordCall(bundle, state, {
      tool: call.tool,
      outcome: outcomeOf(decision, call.approved),
      at: call.at,
      terminatedBy: decision.terminatedBy,
    });
    steps.push({ call, decision, before, after: state });
  }
  return steps;
}

export function outcomeOf(decision: Decision, approved = true): 'allowed' | 'denied' {
  if (decision.effect === 'deny') return 'denied';
  if (decision.effect === 'approve') return approved ? 'allowed' : 'denied';
  return 'allowed';
}
