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

// SQLite: 8 columns a row; 500 rows stays far below SQLite's parameter limit. Measured faster than one
// single-row statement a row through the async executor.
const INSERT_CHUNK = 500;
const ENTRY_COLUMNS = 8;
// PostgreSQL gets the whole batch as eight array parameters: one short statement to parse however large the
// batch, instead of a statement with eight placeholders a row.
const INSERT_ENTRIES_UNNEST =
  'INSERT INTO audit_entries (seq, time, actor, action, target, details, prev_hash, hash) ' +
  'SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])';
const UNNEST_CHUNK = 10_000;

/** A PostgreSQL array literal of text values: each element quoted, `"` and `\` escaped, null as NULL. */
function pgTextArray(values: readonly (string | null)[]): string {
  let text = '{';
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index];
    if (index > 0) text += ',';
    text += value === null || value === undefined ? 'NULL' : `"${value.replace(/["\\]/g, '\\$&')}"`;
  }
  return `${text}}`;
}

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
  const insertUnnest = async (chunk: readonly AuditEntry[]) => {
    await db.run(INSERT_ENTRIES_UNNEST, [
      `{${chunk.map((entry) => entry.seq).join(',')}}`,
      pgTextArray(chunk.map((entry) => entry.time)),
      pgTextArray(chunk.map((entry) => entry.actor)),
      pgTextArray(chunk.map((entry) => entry.action)),
      pgTextArray(chunk.map((entry) => entry.target)),
      pgTextArray(chunk.map((entry) => JSON.stringify(entry.details))),
      pgTextArray(chunk.map((entry) => entry.prevHash)),
      pgTextArray(chunk.map((entry) => entry.hash)),
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
