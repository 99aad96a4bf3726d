import type { ChainLink } from '../../policy/types.js';
import type { SqlExecutor } from '../sql.js';
import { readJson, writeJson } from './json-column.js';

/** A token Gatehouse issued by token exchange (RFC 8693): where it sits in its task's delegation tree. */
export interface DelegatedTokenRecord {
  jti: string;
  /** The Gatehouse token it was exchanged from; null when the subject token came from an IdP. */
  parentJti: string | null;
  /** The first Gatehouse token of the tree (its own jti for a tree's root). */
  rootJti: string;
  subject: string;
  subjectKind: ChainLink['kind'];
  /** The agent the token was issued to. */
  holder: string;
  audience: string;
  chain: ChainLink[];
  scope: string | null;
  task: Record<string, unknown> | null;
  /** The session in which Gatehouse minted it for an agent-to-agent call, and the tool called. */
  parentSession: string | null;
  viaTool: string | null;
  issuedAt: number;
  expiresAt: number;
}

export interface TokenRevocation {
  jti: string;
  revokedAt: number;
  /** When the token would have expired anyway: the row can go after that. */
  expiresAt: number;
  revokedBy: string;
  reason: string | null;
}

export interface TokenSession {
  sessionId: string;
  jti: string;
  openedAt: number;
}

/** Exchanged tokens, revoked token ids, and which token opened which session (for the task graph). */
export interface DelegationRepository {
  insertToken(record: DelegatedTokenRecord): Promise<void>;
  findToken(jti: string): Promise<DelegatedTokenRecord | undefined>;
  /** Every token of a delegation tree, oldest first. */
  tokensOfRoot(rootJti: string, limit: number): Promise<DelegatedTokenRecord[]>;
  /** Records a revocation; false when the token was already revoked. */
  revoke(revocation: TokenRevocation): Promise<boolean>;
  /** Which of these token ids are revoked. */
  revokedAmong(jtis: readonly string[]): Promise<string[]>;
  linkSession(link: TokenSession): Promise<void>;
  sessionToken(sessionId: string): Promise<TokenSession | undefined>;
  sessionsOfTokens(jtis: readonly string[]): Promise<TokenSession[]>;
  /** Forgets revocations of tokens that expired before `before` (tokens stay: they are the task graph). */
  purgeExpiredRevocations(before: number): Promise<number>;
}

interface TokenRow {
  jti: string;
  parent_jti: string | null;
  root_jti: string;
  subject: string;
  subject_kind: ChainLink['kind'];
  holder: string;
  audience: string;
  chain: unknown;
  scope: string | null;
  task: unknown;
  parent_session: string | null;
  via_tool: string | null;
  issued_at: number | string;
  expires_at: number | string;
}

interface SessionRow {
  session_id: string;
  jti: string;
  opened_at: number | string;
}

const tokenFromRow = (row: TokenRow): DelegatedTokenRecord => ({
  jti: row.jti,
  parentJti: row.parent_jti,
  rootJti: row.root_jti,
  subject: row.subject,
  subjectKind: row.subject_kind,
  holder: row.holder,
  audience: row.audience,
  chain: readJson(row.chain),
  scope: row.scope,
  task: row.task === null ? null : readJson(row.task),
  parentSession: row.parent_session,
  viaTool: row.via_tool,
  issuedAt: Number(row.issued_at),
  expiresAt: Number(row.expires_at),
});

const sessionFromRow = (row: SessionRow): TokenSession => ({
  sessionId: row.session_id,
  jti: row.jti,
  openedAt: Number(row.opened_at),
});

const placeholders = (count: number) => Array.from({ length: count }, () => '?').join(', ');

export function createDelegationRepository(db: SqlExecutor): DelegationRepository {
  return {
    async insertToken(record) {
      await db.run(
        `INSERT INTO delegated_tokens (jti, parent_jti, root_jti, subject, subject_kind, holder, audience, chain,
           scope, task, parent_session, via_tool, issued_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          record.jti,
          record.parentJti,
          record.rootJti,
          record.subject,
          record.subjectKind,
          record.holder,
          record.audience,
          writeJson(record.chain),
          record.scope,
          record.task === null ? null : writeJson(record.task),
          record.parentSession,
          record.viaTool,
          record.issuedAt,
          record.expiresAt,
        ],
      );
    },
    async findToken(jti) {
      const row = await db.get<TokenRow>('SELECT * FROM delegated_tokens WHERE jti = ?', [jti]);
      return row && tokenFromRow(row);
    },
    async tokensOfRoot(rootJti, limit) {
      const rows = await db.all<TokenRow>(
        'SELECT * FROM delegated_tokens WHERE root_jti = ? ORDER BY issued_at, jti LIMIT ?',
        [rootJti, limit],
      );
      return rows.map(tokenFromRow);
    },
    async revoke(revocation) {
      const result = await db.run(
        `INSERT INTO token_revocations (jti, revoked_at, expires_at, revoked_by, reason) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (jti) DO NOTHING`,
        [revocation.jti, revocation.revokedAt, revocation.expiresAt, revocation.revokedBy, revocation.reason],
      );
      return result.changes === 1;
    },
    async revokedAmong(jtis) {
      if (jtis.length === 0) return [];
      const rows = await db.all<{ jti: string }>(
        `SELECT jti FROM token_revocations WHERE jti IN (${placeholders(jtis.length)})`,
        jtis,
      );
      return rows.map((row) => row.jti);
    },
    async linkSession(link) {
      await db.run('INSERT INTO token_sessions (session_id, jti, opened_at) VALUES (?, ?, ?)', [
        link.sessionId,
        link.jti,
        link.openedAt,
      ]);
    },
    async sessionToken(sessionId) {
      const row = await db.get<SessionRow>('SELECT * FROM token_sessions WHERE session_id = ?', [sessionId]);
      return row && sessionFromRow(row);
    },
    async sessionsOfTokens(jtis) {
      if (jtis.length === 0) return [];
      const rows = await db.all<SessionRow>(
        `SELECT * FROM token_sessions WHERE jti IN (${placeholders(jtis.length)}) ORDER BY opened_at, session_id`,
        jtis,
      );
      return rows.map(sessionFromRow);
    },
    async purgeExpiredRevocations(before) {
      return (await db.run('DELETE FROM token_revocations WHERE expires_at < ?', [before])).changes;
    },
  };
}
