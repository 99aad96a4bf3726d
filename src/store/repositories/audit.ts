import { type ChainHead, EMPTY_CHAIN_HEAD } from '../../audit/chain.js';
import type { AuditCheckpoint, AuditEntry, ChainedAuditEntry } from '../../audit/types.js';
import type { SqlExecutor } from '../sql.js';
import { readJson } from './json-column.js';

export interface AuditRepository {
  head(): Promise<ChainHead>;
  /** Inserts already-chained entries; call inside a transaction that holds the audit-chain lock. */
  insertEntries(entries: readonly ChainedAuditEntry[]): Promise<void>;
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

const INSERT_ENTRY =
  'INSERT INTO audit_entries (seq, time, actor, action, target, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
// PostgreSQL gets a batch as eight array parameters: one short statement and one round trip, however large the
// batch, instead of a statement per row.
const INSERT_ENTRIES_UNNEST =
  'INSERT INTO audit_entries (seq, time, actor, action, target, details, prev_hash, hash) ' +
  'SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])';
const UNNEST_CHUNK = 10_000;

export function createAuditRepository(db: SqlExecutor): AuditRepository {
  const insertUnnest = async (chunk: readonly ChainedAuditEntry[]) => {
    await db.run(INSERT_ENTRIES_UNNEST, [
      chunk.map((entry) => entry.seq),
      chunk.map((entry) => entry.time),
      chunk.map((entry) => entry.actor),
      chunk.map((entry) => entry.action),
      chunk.map((entry) => entry.target),
      chunk.map((entry) => entry.detailsJson),
      chunk.map((entry) => entry.prevHash),
      chunk.map((entry) => entry.hash),
    ]);
  };
  return {
    async head() {
      const row = await db.get<{ seq: number; hash: string }>(
        'SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1',
      );
      return row ? { seq: Number(row.seq), hash: row.hash } : EMPTY_CHAIN_HEAD;
    },
    async insertEntries(entries) {
      if (db.dialect === 'postgres') {
        for (let start = 0; start < entries.length; start += UNNEST_CHUNK) {
          await insertUnnest(entries.slice(start, start + UNNEST_CHUNK));
        }
        return;
      }
      // SQLite: one prepared single-row statement in a synchronous loop (measured ~2x a 500-row VALUES list).
      await db.runMany(
        INSERT_ENTRY,
        entries.map((entry) => [
          entry.seq,
          entry.time,
          entry.actor,
          entry.action,
          entry.target,
          entry.detailsJson,
          entry.prevHash,
          entry.hash,
        ]),
      );
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
