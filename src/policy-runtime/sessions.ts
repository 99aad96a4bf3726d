import { GatehouseError } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { createId } from '../lib/ids.js';
import {
  type CallUser,
  type ChainLink,
  type Decision,
  decide,
  emptySessionState,
  outcomeOf,
  type Principal,
  recordCall,
  type SessionState,
  type ToolCall,
} from '../policy/index.js';
import type { SessionCall, Store, StoredSession } from '../store/index.js';
import type { PolicyRuntime } from './policy-runtime.js';

/** Concurrent calls in one session retry on a lost compare-and-set this many times before giving up. */
const MAX_ATTEMPTS = 8;

export interface StartSessionInput {
  agentId: string;
  scope?: Record<string, unknown>;
  user?: CallUser | null;
  chain?: ChainLink[];
}

export interface SessionDecision {
  decision: Decision;
  /** What the shadow bundle would have decided, when one is set. */
  shadow: Decision | undefined;
  /** The call's position in the session. */
  step: number;
  sessionId: string;
}

/**
 * Sessions as the enforcement points use them: decide a call with the session's history, then persist the
 * folded state and the call together. The state is written compare-and-set on its revision, so two calls racing
 * in one session (on one replica or several) are decided one after the other, never on the same old state.
 */
export interface SessionService {
  start(input: StartSessionInput): Promise<StoredSession>;
  get(id: string): Promise<StoredSession>;
  decide(input: { sessionId: string; principal: Principal; call: ToolCall }): Promise<SessionDecision>;
  /**
   * Records that a call which waited for approval was approved and runs: it enters the history (taint, counters,
   * trajectories) as allowed, one step after its decision. Returns that step.
   */
  recordApprovedRun(input: {
    sessionId: string;
    principal: Principal;
    call: ToolCall;
    decision: Decision;
  }): Promise<number>;
}

export function createSessionService(deps: {
  store: Store;
  clock: Clock;
  policies: PolicyRuntime;
}): SessionService {
  const { store, clock, policies } = deps;

  const get = async (id: string) => {
    const session = await store.sessions.find(id);
    if (!session) throw new GatehouseError('session_not_found', `no session \`${id}\``);
    return session;
  };

  /** Writes the folded state (compare-and-set on the revision) and the call together; false if another call won. */
  const commitStep = (
    session: StoredSession,
    next: SessionState,
    now: number,
    call: Omit<SessionCall, 'sessionId' | 'step' | 'at'>,
  ) =>
    store.transaction(async (tx) => {
      if (!(await tx.sessions.updateState(session.id, session.revision, next, now))) return false;
      await tx.sessions.insertCall({ sessionId: session.id, step: next.step, at: now, ...call });
      return true;
    });

  return {
    async start(input) {
      const now = clock.now();
      const session: StoredSession = {
        id: createId('ses'),
        agentId: input.agentId,
        scope: input.scope ?? {},
        user: input.user ?? null,
        chain: input.chain ?? [],
        state: emptySessionState(),
        revision: 0,
        createdAt: now,
        updatedAt: now,
      };
      await store.sessions.insert(session);
      return session;
    },
    get,
    async decide({ sessionId, principal, call }) {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const session = await get(sessionId);
        if (session.agentId !== principal.id) {
          throw new GatehouseError('forbidden', `session \`${sessionId}\` belongs to another agent`);
        }
        const now = clock.now();
        const active = policies.active();
        const input = {
          principal,
          call,
          session: { id: session.id, scope: session.scope, state: session.state },
          user: session.user ?? undefined,
          chain: session.chain,
          now,
        };
        const decision = decide(active, input);
        const shadowBundle = policies.shadow();
        const shadow = shadowBundle ? decide(shadowBundle, input) : undefined;
        // A call waiting for approval has not run: it enters the history as not allowed.
        const outcome = outcomeOf(decision, false);
        const next = recordCall(active, session.state, {
          tool: call.tool,
          outcome,
          at: now,
          terminatedBy: decision.terminatedBy,
        });
        const committed = await commitStep(session, next, now, {
          tool: call.tool,
          args: call.args,
          principal,
          effect: decision.effect,
          code: decision.code,
          ruleIds: decision.ruleIds,
          bundleVersion: decision.bundleVersion,
          outcome,
          shadow: shadow
            ? { effect: shadow.effect, ruleIds: shadow.ruleIds, version: shadow.bundleVersion }
            : null,
        });
        if (committed) return { decision, shadow, step: next.step, sessionId: session.id };
      }
      throw new GatehouseError('session_conflict', `session \`${sessionId}\` is too busy; retry the call`);
    },
    async recordApprovedRun({ sessionId, principal, call, decision }) {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const session = await get(sessionId);
        const now = clock.now();
        const next = recordCall(policies.active(), session.state, {
          tool: call.tool,
          outcome: 'allowed',
          at: now,
        });
        const committed = await commitStep(session, next, now, {
          tool: call.tool,
          args: call.args,
          principal,
          effect: decision.effect,
          code: decision.code,
          ruleIds: decision.ruleIds,
          bundleVersion: decision.bundleVersion,
          outcome: 'allowed',
          shadow: null,
        });
        if (committed) return next.step;
      }
      throw new GatehouseError('session_conflict', `session \`${sessionId}\` is too busy; retry the call`);
    },
  };
}
