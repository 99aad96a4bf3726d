import type { CallUser, ChainLink, Principal, SessionState } from '../../policy/types.js';
import type { SqlExecutor } from '../sql.js';
import { readJson, writeJson } from './json-column.js';

/** A Gatehouse session: one task of one agent, with the policy state its calls build up. */
export interface StoredSession {
  id: string;
  agentId: string;
  scope: Record<string, unknown>;
  user: CallUser | null;
  chain: ChainLink[];
  state: SessionState;
  /** Bumped on every state change; writers compare-and-set on it so concurrent calls cannot lose an update. */
  revision: number;
  createdAt: number;
  updatedAt: number;
}

/** One decided call, kept so candidate policies can be replayed against real traffic. */
export interface SessionCall {
  sessionId: string;
  step: number;
  at: number;
  tool: string;
  args: Record<string, unknown>;
  principal: Principal;
  effect: string;
  code: string;
  ruleIds: string[];
  bundleVersion: string;
  outcome: 'allowed' | 'denied';
  shadow: { effect: string; ruleIds: string[]; version: string } | null;
}

export interface SessionRepository {
  insert(session: StoredSession): Promise<void>;
  find(id: string): Promise<StoredSession | undefined>;
  /** Most recently active first. */
  list(filter: { agentId?: string; limit: number }): Promise<StoredSession[]>;
  /** Writes the new state if the stored revision is still `expectedRevision`; false when someone else won. */
  updateState(id: string, expectedRevision: number, state: SessionState, at: number): Promise<boolean>;
  insertCall(call: SessionCall): Promise<void>;
  /** Calls of sessions that started at or after `since`, grouped by session and in step order. */
  callsSince(since: number, limit: number): Promise<SessionCall[]>;
  callsOf(sessionId: string): Promise<SessionCall[]>;
  /** Newest calls where the shadow bundle decided differently from the active one. */
  shadowDifferences(limit: number): Promise<SessionCall[]>;
}

interface SessionRow {
  id: string;
  agent_id: string;
  scope: unknown;
  on_behalf_of: unknown;
  chain: unknown;
  state: unknown;
  revision: number;
  created_at: number;
  updated_at: number;
}

interface CallRow {
  session_id: string;
  step: number;
  at: number;
  tool: string;
  args: unknown;
  principal: unknown;
  effect: string;
  code: string;
  rule_ids: unknown;
  bundle_version: string;
  outcome: 'allowed' | 'denied';
  shadow_effect: string | null;
  shadow_rule_ids: unknown;
  shadow_version: string | null;
}

const sessionFromRow = (row: SessionRow): StoredSession => ({
  id: row.id,
  agentId: row.agent_id,
  scope: readJson(row.scope),
  user: row.on_behalf_of === null ? null : readJson(row.on_behalf_of),
  chain: readJson(row.chain),
  state: readJson(row.state),
  revision: Number(row.revision),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const callFromRow = (row: CallRow): SessionCall => ({
  sessionId: row.session_id,
  step: Number(row.step),
  at: row.at,
  tool: row.tool,
  args: readJson(row.args),
  principal: readJson(row.principal),
  effect: row.effect,
  code: row.code,
  ruleIds: readJson(row.rule_ids),
  bundleVersion: row.bundle_version,
  outcome: row.outcome,
  shadow:
    row.shadow_effect === null
      ? null
      : {
          effect: row.shadow_effect,
          ruleIds: readJson(row.shadow_rule_ids),
          version: row.shadow_version ?? '',
        },
});

export function createSessionRepository(db: SqlExecutor): SessionRepository {
  return {
    async insert(session) {
      await db.run(
        `INSERT INTO policy_sessions (id, agent_id, scope, on_behalf_of, chain, state, revision, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          session.id,
          session.agentId,
          writeJson(session.scope),
          session.user === null ? null : writeJson(session.user),
          writeJson(session.chain),
          writeJson(session.state),
          session.revision,
          session.createdAt,
          session.updatedAt,
        ],
      );
    },
    async find(id) {
      const row = await db.get<SessionRow>('SELECT * FROM policy_sessions WHERE id = ?', [id]);
      return row && sessionFromRow(row);
    },
    async list(filter) {
      const rows = filter.agentId
        ? await db.all<SessionRow>(
            'SELECT * FROM policy_sessions WHERE agent_id = ? ORDER BY updated_at DESC, id LIMIT ?',
            [filter.agentId, filter.limit],
          )
        : await db.all<SessionRow>('SELECT * FROM policy_sessions ORDER BY updated_at DESC, id LIMIT ?', [
            filter.limit,
          ]);
      return rows.map(sessionFromRow);
    },
    async updateState(id, expectedRevision, state, at) {
      const result = await db.run(
        'UPDATE policy_sessions SET state = ?, revision = revision + 1, updated_at = ? WHERE id = ? AND revision = ?',
        [writeJson(state), at, id, expectedRevision],
      );
      return result.changes > 0;
    },
    async insertCall(call) {
      await db.run(
        `INSERT INTO session_calls (session_id, step, at, tool, args, principal, effect, code, rule_ids,
           bundle_version, outcome, shadow_effect, shadow_rule_ids, shadow_version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          call.sessionId,
          call.step,
          call.at,
          call.tool,
          writeJson(call.args),
          writeJson(call.principal),
          call.effect,
          call.code,
          writeJson(call.ruleIds),
          call.bundleVersion,
          call.outcome,
          call.shadow?.effect ?? null,
          call.shadow ? writeJson(call.shadow.ruleIds) : null,
          call.shadow?.version ?? null,
        ],
      );
    },
    async callsSince(since, limit) {
      const rows = await db.all<CallRow>(
        `SELECT c.* FROM session_calls c JOIN policy_sessions s ON s.id = c.session_id
         WHERE s.created_at >= ? ORDER BY s.created_at, c.session_id, c.step LIMIT ?`,
        [since, limit],
      );
      return rows.map(callFromRow);
    },
    async callsOf(sessionId) {
      const rows = await db.all<CallRow>('SELECT * FROM session_calls WHERE session_id = ? ORDER BY step', [
        sessionId,
      ]);
      return rows.map(callFromRow);
    },
    async shadowDifferences(limit) {
      const rows = await db.all<CallRow>(
        `SELECT * FROM session_calls WHERE shadow_effect IS NOT NULL AND shadow_effect <> effect
         ORDER BY at DESC, session_id, step DESC LIMIT ?`,
        [limit],
      );
      return rows.map(callFromRow);
    },
  };
}
