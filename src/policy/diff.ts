import type { CompiledBundle } from './compiled-bundle.js';
import { type ReplayCall, type ReplaySubject, replaySession } from './replay.js';
import type { Decision, Effect } from './types.js';

/** A recorded session, as the diff needs it: who ran it and the calls in order. */
export interface RecordedSession {
  id: string;
  subject: ReplaySubject;
  calls: ReplayCall[];
}

export interface DecisionChange {
  sessionId: string;
  /** 1-based position of the call in its session. */
  step: number;
  tool: string;
  at: number;
  before: { effect: Effect; code: string; ruleIds: string[] };
  after: { effect: Effect; code: string; ruleIds: string[] };
}

export interface BundleDiff {
  sessions: number;
  calls: number;
  changes: DecisionChange[];
}

/**
 * Replays each session through both bundles from an empty state and lists every call decided differently.
 * Each bundle folds its own decisions into its own state, so a candidate that denies an early read also sees
 * the session without that read's taint, as enforcement would.
 */
export function diffBundles(
  current: CompiledBundle,
  candidate: CompiledBundle,
  sessions: readonly RecordedSession[],
): BundleDiff {
  const changes: DecisionChange[] = [];
  let calls = 0;
  for (const session of sessions) {
    const before = replaySession(current, session.subject, session.calls);
    const after = replaySession(candidate, session.subject, session.calls);
    calls += session.calls.length;
    before.forEach((step, index) => {
      const other = after[index];
      if (!other || sameDecision(step.decision, other.decision)) return;
      changes.push({
        sessionId: session.id,
        step: index + 1,
        tool: step.call.tool,
        at: step.call.at,
        before: summary(step.decision),
        after: summary(other.decision),
      });
    });
  }
  return { sessions: sessions.length, calls, changes };
}

function sameDecision(left: Decision, right: Decision): boolean {
  return left.effect === right.effect && left.code === right.code;
}

function summary(decision: Decision) {
  return { effect: decision.effect, code: decision.code, ruleIds: decision.ruleIds };
}
