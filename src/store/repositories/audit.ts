import { type ChainHead, EMPTY_CHAIN_HEAD } from '../../audit/chain.js';
import type { AuditCheckpoint, AuditEntry } from '../../audit/types.js';
import type { SqlExecutor, SqlValue } from '../sql.js';
import { readJson } from './json-column.js';

export interface AuditRepository {
  head(): Promise<ChainHead>;
  /** Inserts already-chained entries; call inside a transaction that holds the audit-chain lock. */
  insertEntries(entries: readonly AuditEntry[]): Promise<void>;
  /** Entries with seq > afterSeq, in seq order. */
  list(afterSeq: number, limit: number): Promise<AuditEntry[]>;
  count(): Promise<number>;
  /** Records a checkpoint; false if one for that seq exists already. */
  insertCheckpoint(checkpoint: AuditCheckpoint): Promise<boolean>;
  listCheckpoints(): Promise<AuditCheckpoint[]>;
  latestCheckpoint(): Promise<AuditCheckpoint | undefined>;
}

interface AuditEntryRow {
  seq: number;
  time: string;
  actor: string;
  action: string;
  target: string | null;
  details: unknown;
  prev_hash: string;
  hash: string;
}

const entryFromRow = (row: AuditEntryRow): AuditEntry => ({
  seq: Number(row.seq),
  time: row.time,
  actor: row.actor,
  action: row.action,
  target: row.target,
  details: readJson<Record<string, unknown>>(row.details),
  prevHash: row.prev_hash,
  hash: row.hash,
});

// 8 columns a row; 500 rows stays far below both SQLite's and PostgreSQL's parameter limits.
const INSERT_CHUNK = 500;
const ENTRY_COLUMNS = 8;

export function createAuditRepository(db: SqlExecutor): AuditRepository {
  const insertChunk = async (chunk: readonly AuditEntry[]) => {
    const placeholders = `(${new Array(ENTRY_COLUMNS).fill('?').join(', ')})`;
    const params: SqlValue[] = [];
    for (const entry of chunk) {
      params.push(
        entry.seq,
        entry.time,
        entry.actor,
        entry.action,
        entry.target,
        JSON.stringify(entry.details),
        entry.prevHash,
        entry.hash,
      );
    }
    await db.run(
      `INSERT INTO audit_entries (seq, time, actor, action, target, details, prev_hash, hash) VALUES ${new Array(
        chunk.length,
      )
        .fill(placeholders)
        .join(', ')}`,
      params,
    );
  };
  return {
    async head() {
      const row = await db.get<{ seq: number; hash: string }>(
        'SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1',
      );
      return row ? { seq: Number(row.seq), hash: row.hash } : EMPTY_CHAIN_HEAD;
    },
    async insertEntries(entries) {
      for (let start = 0; start < entries.length; start += INSERT_CHUNK) {
        await insertChunk(entries.slice(start, start + INSERT_CHUNK));
      }
    },
    async list(afterSeq, limit) {
      const rows = await db.all<AuditEntryRow>(
        'SELECT * FROM audit_entries WHERE seq > ? ORDER BY seq LIMIT ?',
        [afterSeq, limit],
      );
      return rows.map(entryFromRow);
    },
    async count() {
      const row = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM audit_entries');
      return Number(row?.n ?? 0);
    },
    async insertCheckpoint(checkpoint) {
      const result = await db.run(
        'INSERT INTO audit_checkpoints (seq, hash, time, kid, signature) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        [checkpoint.seq, checkpoint.hash, checkpoint.time, checkpoint.kid, checkpoint.signature],
      );
      return result.changes === 1;
    },
    async listCheckpoints() {
      return db
        .all<AuditCheckpoint>('SELECT seq, hash, time, kid, signature FROM audit_checkpoints ORDER BY seq')
        .then((rows) => rows.map((row) => ({ ...row, seq: Number(row.seq) })));
    },
    async latestCheckpoint() {
      const row = await db.get<AuditCheckpoint>(
        'SELECT seq, hash, time, kid, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1',
      );
      return row && { ...row, seq: Number(row.seq) };
    },
  };
}
