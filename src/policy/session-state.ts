import { HISTORY_LIMIT } from './bundle-schema.js';
import type { ToolFacts } from './compiled-bundle.js';
import type { CallOutcome, CountBucket, SessionState, Taint } from './types.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export function emptySessionState(): SessionState {
  return {
    step: 0,
    history: [],
    taint: { secrecy: [], integrity: [] },
    counts: { session: emptyBucket(0), hour: emptyBucket(0), day: emptyBucket(0) },
  };
}

/** What happened to one call, as the session remembers it. */
export interface RecordedCall {
  tool: string;
  outcome: CallOutcome;
  /** Milliseconds since the epoch. */
  at: number;
  /** The rule that ended the session with this call, when it did. */
  terminatedBy?: string | undefined;
}

/**
 * Folds one decided call into the session state and returns the new state; the input is not modified.
 * Allowed calls taint the session with their tool's labels and count towards limits; every call, denied or not,
 * enters the bounded history.
 */
export function recordCall(facts: ToolFacts, state: SessionState, call: RecordedCall): SessionState {
  const step = state.step + 1;
  const history =
    state.history.length >= HISTORY_LIMIT
      ? state.history.slice(state.history.length - HISTORY_LIMIT + 1)
      : [...state.history];
  history.push({ tool: call.tool, outcome: call.outcome, step, at: call.at });
  let { taint, counts } = state;
  if (call.outcome === 'allowed') {
    const labels = facts.labelsOf(call.tool);
    taint = mergeTaint(taint, facts.taintOf(call.tool));
    counts = {
      session: countInto(state.counts.session, 0, call.tool, labels),
      hour: countInto(state.counts.hour, windowStart(call.at, HOUR_MS), call.tool, labels),
      day: countInto(state.counts.day, windowStart(call.at, DAY_MS), call.tool, labels),
    };
  }
  const terminated =
    state.terminated ??
    (call.terminatedBy === undefined ? undefined : { ruleId: call.terminatedBy, step, at: call.at });
  return { step, history, taint, counts, ...(terminated === undefined ? {} : { terminated }) };
}

/** The bucket for the window containing `now`, empty when the stored one is from an earlier window. */
export function currentBucket(
  state: SessionState,
  per: 'session' | 'hour' | 'day',
  now: number,
): CountBucket {
  if (per === 'session') return state.counts.session;
  const bucket = state.counts[per];
  return bucket.start === windowStart(now, per === 'hour' ? HOUR_MS : DAY_MS) ? bucket : EMPTY_BUCKET;
}

const EMPTY_BUCKET: CountBucket = Object.freeze({ start: 0, tools: {}, labels: {} });

function windowStart(at: number, size: number): number {
  return at - (at % size);
}

function emptyBucket(start: number): CountBucket {
  return { start, tools: {}, labels: {} };
}

function countInto(bucket: CountBucket, start: number, tool: string, labels: readonly string[]): CountBucket {
  const base = bucket.start === start ? bucket : emptyBucket(start);
  const tools = { ...base.tools, [tool]: (base.tools[tool] ?? 0) + 1 };
  const counted = { ...base.labels };
  for (const label of labels) counted[label] = (counted[label] ?? 0) + 1;
  return { start, tools, labels: counted };
}

function mergeTaint(current: Taint, added: Taint): Taint {
  if (added.secrecy.length === 0 && added.integrity.length === 0) return current;
  const union = (left: string[], right: string[]) =>
    right.every((label) => left.includes(label)) ? left : [...new Set([...left, ...right])].sort();
  return {
    secrecy: union(current.secrecy, added.secrecy),
    integrity: union(current.integrity, added.integrity),
  };
}
