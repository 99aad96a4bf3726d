/**
 * The vocabulary of the policy engine. Everything here is plain data: a decision is a pure function of a
 * compiled bundle and a `DecisionInput`, and a session's state is folded forward by another pure function.
 */

export const EFFECTS = ['allow', 'deny', 'flag', 'approve'] as const;
export type Effect = (typeof EFFECTS)[number];

/** Who is calling: an agent, as the registry knows it when the call is decided. */
export interface Principal {
  /** Registry id, `agt_…` (or any stable subject id when decided through AuthZEN). */
  id: string;
  name?: string;
  team?: string;
  labels?: Record<string, string>;
  review?: string;
  /** Extra attributes (AuthZEN subject properties); visible to CEL as `principal.properties`. */
  properties?: Record<string, unknown>;
}

/** The person on whose behalf the session runs, when there is one. */
export interface CallUser {
  id: string;
  email?: string;
  properties?: Record<string, unknown>;
}

/** One link of the delegation chain, outermost (the user) first. */
export interface ChainLink {
  sub: string;
  kind: 'user' | 'agent';
}

export interface ToolCall {
  /** Namespaced tool name, e.g. `github.create_issue`. */
  tool: string;
  args: Record<string, unknown>;
}

/** Security labels a session accumulates as it reads: secrecy (what the data is) and integrity (how trusted). */
export interface Taint {
  secrecy: string[];
  integrity: string[];
}

export type CallOutcome = 'allowed' | 'denied';

/** One remembered call of the session. Denied calls are remembered too, so "after a sudo attempt" works. */
export interface HistoryEntry {
  tool: string;
  outcome: CallOutcome;
  step: number;
  /** Milliseconds since the epoch. */
  at: number;
}

export interface CountBucket {
  /** Start of the fixed UTC window in ms; 0 for the session-long bucket. */
  start: number;
  tools: Record<string, number>;
  labels: Record<string, number>;
}

/**
 * What a session remembers between calls. Bounded: `history` keeps the last `HISTORY_LIMIT` calls, counters are
 * per distinct tool and label, so a long session costs no more per call than a short one.
 */
export interface SessionState {
  /** Number of calls decided in the session so far. */
  step: number;
  history: HistoryEntry[];
  taint: Taint;
  /** Allowed calls per tool and label: for the whole session, the current UTC hour and the current UTC day. */
  counts: { session: CountBucket; hour: CountBucket; day: CountBucket };
  /** Set when a `terminate: true` rule denied a call; every later call is denied. */
  terminated?: { ruleId: string; step: number; at: number };
}

export interface SessionContext {
  id?: string;
  scope: Record<string, unknown>;
  state: SessionState;
}

export interface DecisionInput {
  principal: Principal;
  call: ToolCall;
  session: SessionContext;
  user?: CallUser | undefined;
  chain?: ChainLink[];
  /** Milliseconds since the epoch; injected so decisions are deterministic. */
  now: number;
}

export type DecisionCode =
  | 'allowed'
  | 'flagged'
  | 'approval_required'
  | 'policy_denied'
  | 'no_matching_rule'
  | 'session_terminated'
  | 'policy_eval_error';

export interface RuleMatch {
  ruleId: string;
  effect: Effect;
  reason: string;
}

export interface ApprovalRequirement {
  approvers: number;
  ruleIds: string[];
}

export interface Decision {
  effect: Effect;
  code: DecisionCode;
  /** Rules whose effect decided the call (the winning effect), in bundle order. */
  ruleIds: string[];
  /** Every rule that matched, whatever its effect, in bundle order. */
  matched: RuleMatch[];
  reason: string;
  approval?: ApprovalRequirement;
  /** True when this decision ends the session. */
  terminate?: boolean;
  /** The `terminate: true` rule that ended the session, when `terminate` is set. */
  terminatedBy?: string;
  /** Version of the bundle that decided. */
  bundleVersion: string;
}
