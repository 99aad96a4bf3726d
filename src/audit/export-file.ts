import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { JWK } from 'jose';
import { z } from 'zod';
import { GatehouseError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { STORED_ENTRIES_PAGE_SIZE as PAGE_SIZE, streamStoredEntries } from './stored-entries.js';
import type { AuditCheckpoint, AuditEntry } from './types.js';
import { type AuditVerifyReport, verifyAuditTrail } from './verify.js';

const HashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex SHA-256');
const SeqSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const EntryLineSchema = z.strictObject({
  type: z.literal('entry'),
  seq: SeqSchema,
  time: z.string().min(1),
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  prev_hash: HashSchema,
  hash: HashSchema,
});

const CheckpointLineSchema = z.strictObject({
  type: z.literal('checkpoint'),
  seq: SeqSchema,
  hash: HashSchema,
  time: z.string().min(1),
  kid: z.string().min(1),
  signature: z.string().min(1),
});

const AuditLineSchema = z.discriminatedUnion('type', [EntryLineSchema, CheckpointLineSchema]);

export interface AuditExportSummary {
  entries: number;
  lastSeq: number;
  checkpoints: number;
}

/**
 * Writes the audit chain as JSONL: one `entry` line per entry, then one `checkpoint` line per checkpoint.
 * The export is a snapshot up to the head read at the start; the file appears only once complete.
 */
export async function writeAuditExport(options: {
  store: Store;
  out: string;
  finalCheckpoint?: AuditCheckpoint;
  /** Export entries up to this seq only (default: the head); e.g. the last signed checkpoint's. */
  untilSeq?: number;
}): Promise<AuditExportSummary> {
  const { store, out, finalCheckpoint } = options;
  const storedHead = await store.audit.head();
  const head = { seq: Math.min(storedHead.seq, options.untilSeq ?? storedHead.seq) };
  const partial = `${out}.partial-${process.pid}`;
  const file = await open(partial, 'w');
  let entries = 0;
  let checkpointCount = 0;
  try {
    let chunk = '';
    for await (const entry of streamStoredEntries(store, head.seq)) {
      chunk += `${JSON.stringify(entryLine(entry))}\n`;
      entries += 1;
      if (entries % PAGE_SIZE === 0) {
        await file.write(chunk);
        chunk = '';
      }
    }
    // Only checkpoints within the snapshot: one past it would read as a truncated chain.
    const checkpoints = (await store.audit.listCheckpoints()).filter(
      (checkpoint) => checkpoint.seq <= head.seq,
    );
    if (
      finalCheckpoint &&
      finalCheckpoint.seq <= head.seq &&
      !checkpoints.some((checkpoint) => checkpoint.signature === finalCheckpoint.signature)
    ) {
      checkpoints.push(finalCheckpoint);
      checkpoints.sort((a, b) => a.seq - b.seq);
    }
    for (const checkpoint of checkpoints) chunk += `${JSON.stringify(checkpointLine(checkpoint))}\n`;
    checkpointCount = checkpoints.length;
    await file.write(chunk);
    await file.sync();
  } catch (error) {
    await file.close().catch(() => {});
    await rm(partial, { force: true });
    throw error;
  }
  await file.close();
  await rename(partial, out);
  return { entries, lastSeq: head.seq, checkpoints: checkpointCount };
}

/** Reads and validates an audit export; throws `invalid_audit_file` naming the first bad line. */
export async function readAuditExport(
  path: string,
): Promise<{ entries: AuditEntry[]; checkpoints: AuditCheckpoint[] }> {
  const entries: AuditEntry[] = [];
  const checkpoints: AuditCheckpoint[] = [];
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber += 1;
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw invalidLine(lineNumber, 'not JSON');
      }
      const parsed = AuditLineSchema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length > 0 ? `\`${issue.path.join('.')}\`: ` : '';
        throw invalidLine(lineNumber, `${where}${issue?.message ?? 'invalid'}`);
      }
      const row = parsed.data;
      if (row.type === 'entry') {
        entries.push({
          seq: row.seq,
          time: row.time,
          actor: row.actor,
          action: row.action,
          target: row.target,
          // The parsed object itself, not zod's copy, so odd keys such as `__proto__` hash as written.
          details: (value as { details: Record<string, unknown> }).details,
          prevHash: row.prev_hash,
          hash: row.hash,
        });
      } else {
        checkpoints.push({
          seq: row.seq,
          hash: row.hash,
          time: row.time,
          kid: row.kid,
          signature: row.signature,
        });
      }
    }
  } catch (error) {
    if (error instanceof GatehouseError) throw error;
    throw new GatehouseError('invalid_audit_file', `cannot read audit file \`${path}\``, { cause: error });
  } finally {
    lines.close();
    stream.destroy();
  }
  return { entries, checkpoints };
}

/** Verifies the chain as stored, streaming entries page by page. */
export async function verifyStoredAudit(options: {
  store: Store;
  jwks: { keys: JWK[] };
  requireCheckpointAtEnd?: boolean;
}): Promise<AuditVerifyReport> {
  const { store } = options;
  // A snapshot at the current head, so entries appended meanwhile do not count as uncovered.
  const head = await store.audit.head();
  const checkpoints = (await store.audit.listCheckpoints()).filter(
    (checkpoint) => checkpoint.seq <= head.seq,
  );
  return verifyAuditTrail({
    entries: streamStoredEntries(store, head.seq),
    checkpoints,
    jwks: options.jwks,
    requireCheckpointAtEnd: options.requireCheckpointAtEnd ?? false,
  });
}

function entryLine(entry: AuditEntry) {
  return {
    type: 'entry',
    seq: entry.seq,
    time: entry.time,
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    details: entry.details,
    prev_hash: entry.prevHash,
    hash: entry.hash,
  };
}

function checkpointLine(checkpoint: AuditCheckpoint) {
  return {
    type: 'checkpoint',
    seq: checkpoint.seq,
    hash: checkpoint.hash,
    time: checkpoint.time,
    kid: checkpoint.kid,
    signature: checkpoint.signature,
  };
}

function invalidLine(lineNumber: number, message: string): GatehouseError {
  return new GatehouseError('invalid_audit_file', `line ${lineNumber}: ${message}`, {
    details: { line: lineNumber },
  });
}
