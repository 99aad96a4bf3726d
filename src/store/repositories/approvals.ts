import type { SqlExecutor } from '../sql.js';
import { readJson, writeJson } from './json-column.js';

export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired';

/** A parked tool call waiting for people to approve or deny it (docs/approvals.md). */
export interface ApprovalRecord {
  id: string;
  state: ApprovalState;
  agentId: string;
  sessionId: string;
  /** The person on whose behalf the session runs, when there is one. */
  userId: string | null;
  userEmail: string | null;
  chain: { sub: string; kind: 'user' | 'agent' }[];
  tool: string;
  /** The `args_sha256` of the exact arguments: the approval is bound to them. */
  argsSha256: string;
  /** The arguments as shown to approvers, secrets redacted. */
  arguments: Record<string, unknown>;
  ruleIds: string[];
  reason: string;
  /** How many distinct approvers must approve. */
  required: number;
  requestedAt: number;
  expiresAt: number;
  resolvedAt: number | null;
  resolvedBy: string | null;
  resolutionReason: string | null;
  /** When the approved call ran; an approval runs its call once. */
  consumedAt: number | null;
  updatedAt: number;
}

export interface ApprovalVote {
  requestId: string;
  /** The approver's user id: one vote per person and request. */
  approverId: string;
  actor: string;
  vote: 'approve' | 'deny';
  reason: string;
  at: number;
}

export interface ApprovalFilter {
  state?: 'pending' | 'resolved';
  limit?: number;
}

export interface ApprovalRepository {
  insert(record: ApprovalRecord): Promise<void>;
  find(id: string): Promise<ApprovalRecord | undefined>;
  list(filter?: ApprovalFilter): Promise<ApprovalRecord[]>;
  /** Requests for one exact call (session, tool, argument hash), newest first. */
  listForCall(sessionId: string, tool: string, argsSha256: string): Promise<ApprovalRecord[]>;
  /** Requests changed after `since` (epoch ms), oldest change first. */
  listChangedSince(since: number, limit: number): Promise<ApprovalRecord[]>;
  /** Records a vote; false when this approver already voted on the request. */
  addVote(vote: ApprovalVote): Promise<boolean>;
  listVotes(requestId: string): Promise<ApprovalVote[]>;
  /** Moves a pending request to its final state; false if it was no longer pending (resolution happens once). */
  resolve(
    id: string,
    state: Exclude<ApprovalState, 'pending'>,
    at: number,
    by: string | null,
    reason: string | null,
  ): Promise<boolean>;
  /** Marks an approved request as used; false if it was not approved or already used. */
  consume(id: string, at: number): Promise<boolean>;
}

interface ApprovalRow {
  id: string;
  state: string;
  agent_id: string;
  session_id: string;
  user_id: string | null;
  user_email: string | null;
  chain: unknown;
  tool: string;
  args_sha256: string;
  arguments: unknown;
  rule_ids: unknown;
  reason: string;
  required: number | string;
  requested_at: number | string;
  expires_at: number | string;
  resolved_at: number | string | null;
  resolved_by: string | null;
  resolution_reason: string | null;
  consumed_at: number | string | null;
  updated_at: number | string;
}

interface VoteRow {
  request_id: string;
  approver_id: string;
  actor: string;
  vote: string;
  reason: string;
  at: number | string;
}

const optionalNumber = (value: number | string | null) => (value === null ? null : Number(value));

function toRecord(row: ApprovalRow): ApprovalRecord {
  return {
    id: row.id,
    state: row.state as ApprovalState,
    agentId: row.agent_id,
    sessionId: row.session_id,
    userId: row.user_id,
    userEmail: row.user_email,
    chain: readJson(row.chain),
    tool: row.tool,
    argsSha256: row.args_sha256,
    arguments: readJson(row.arguments),
    ruleIds: readJson(row.rule_ids),
    reason: row.reason,
    required: Number(row.required),
    requestedAt: Number(row.requested_at),
    expiresAt: Number(row.expires_at),
    resolvedAt: optionalNumber(row.resolved_at),
    resolvedBy: row.resolved_by,
    resolutionReason: row.resolution_reason,
    consumedAt: optionalNumber(row.consumed_at),
    updatedAt: Number(row.updated_at),
  };
}

export function createApprovalRepository(db: SqlExecutor): ApprovalRepository {
  return {
    async insert(record) {
      await db.run(
        `INSERT INTO approval_requests (id, state, agent_id, session_id, user_id, user_email, chain, tool,
           args_sha256, arguments, rule_ids, reason, required, requested_at, expires_at, resolved_at, resolved_by,
           resolution_reason, consumed_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          record.id,
          record.state,
          record.agentId,
          record.sessionId,
          record.userId,
          record.userEmail,
          writeJson(record.chain),
          record.tool,
          record.argsSha256,
          writeJson(record.arguments),
          writeJson(record.ruleIds),
          record.reason,
          record.required,
          record.requestedAt,
          record.expiresAt,
          record.resolvedAt,
          record.resolvedBy,
          record.resolutionReason,
          record.consumedAt,
          record.updatedAt,
        ],
      );
    },
    async find(id) {
      const row = await db.get<ApprovalRow>('SELECT * FROM approval_requests WHERE id = ?', [id]);
      return row ? toRecord(row) : undefined;
    },
    async list(filter = {}) {
      const where =
        filter.state === 'pending'
          ? "WHERE state = 'pending'"
          : filter.state === 'resolved'
            ? "WHERE state <> 'pending'"
            : '';
      const order = filter.state === 'resolved' ? 'resolved_at DESC, id' : 'requested_at DESC, id';
      const rows = await db.all<ApprovalRow>(
        `SELECT * FROM approval_requests ${where} ORDER BY ${order} LIMIT ?`,
        [filter.limit ?? 100],
      );
      return rows.map(toRecord);
    },
    async listForCall(sessionId, tool, hash) {
      const rows = await db.all<ApprovalRow>(
        `SELECT * FROM approval_requests WHERE session_id = ? AND tool = ? AND args_sha256 = ?
         ORDER BY requested_at DESC, id LIMIT 20`,
        [sessionId, tool, hash],
      );
      return rows.map(toRecord);
    },
    async listChangedSince(since, limit) {
      const rows = await db.all<ApprovalRow>(
        'SELECT * FROM approval_requests WHERE updated_at > ? ORDER BY updated_at, id LIMIT ?',
        [since, limit],
      );
      return rows.map(toRecord);
    },
    async addVote(vote) {
      const result = await db.run(
        `INSERT INTO approval_votes (request_id, approver_id, actor, vote, reason, at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (request_id, approver_id) DO NOTHING`,
        [vote.requestId, vote.approverId, vote.actor, vote.vote, vote.reason, vote.at],
      );
      if (result.changes !== 1) return false;
      await db.run('UPDATE approval_requests SET updated_at = ? WHERE id = ?', [vote.at, vote.requestId]);
      return true;
    },
    async listVotes(requestId) {
      const rows = await db.all<VoteRow>(
        'SELECT * FROM approval_votes WHERE request_id = ? ORDER BY at, approver_id',
        [requestId],
      );
      return rows.map((row) => ({
        requestId: row.request_id,
        approverId: row.approver_id,
        actor: row.actor,
        vote: row.vote as 'approve' | 'deny',
        reason: row.reason,
        at: Number(row.at),
      }));
    },
    async resolve(id, state, at, by, reason) {
      const result = await db.run(
        `UPDATE approval_requests SET state = ?, resolved_at = ?, resolved_by = ?, resolution_reason = ?,
           updated_at = ? WHERE id = ? AND state = 'pending'`,
        [state, at, by, reason, at, id],
      );
      return result.changes === 1;
    },
    async consume(id, at) {
      const result = await db.run(
        `UPDATE approval_requests SET consumed_at = ?, updated_at = ?
         WHERE id = ? AND state = 'approved' AND consumed_at IS NULL`,
        [at, at, id],
      );
      return result.changes === 1;
    },
  };
}
