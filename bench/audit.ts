/**
 * Audit log throughput on SQLite and PostgreSQL: one entry per transaction versus group commit, and the cost
 * of enqueueing a record. Run with `npm run bench:audit` (or `npx tsx bench/audit.ts`).
 *
 * Environment: BENCH_AUDIT_ENTRIES (group-commit entries, default 200000), BENCH_AUDIT_SINGLE (entries for the
 * one-per-transaction run, default 3000), BENCH_AUDIT_WAVE (records issued per wave, default 10000),
 * BENCH_AUDIT_MAX_BATCH (default: the audit log's), BENCH_POSTGRES_URL, BENCH_AUDIT_DRIVERS (`sqlite,postgres`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_LOG_DEFAULTS, createAuditLog } from '../src/audit/audit-log.js';
import { toAuditEvent } from '../src/audit/chain.js';
import { verifyStoredAudit } from '../src/audit/export-file.js';
import type { AuditEntry, AuditRecord, CheckpointSigner } from '../src/audit/types.js';
import { systemClock } from '../src/lib/clock.js';
import { openStore, type Store } from '../src/store/index.js';
import { createTestSigner } from '../test/support/checkpoint-signer.js';
import { dropSchema } from '../test/support/stores.js';

const ENTRIES = Number(process.env.BENCH_AUDIT_ENTRIES ?? 200_000);
const SINGLE = Number(process.env.BENCH_AUDIT_SINGLE ?? 3_000);
const WAVE = Number(process.env.BENCH_AUDIT_WAVE ?? 10_000);
const MAX_BATCH = Number(process.env.BENCH_AUDIT_MAX_BATCH ?? AUDIT_LOG_DEFAULTS.maxBatch);
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DRIVERS = (process.env.BENCH_AUDIT_DRIVERS ?? 'sqlite,postgres').split(',') as (
  | 'sqlite'
  | 'postgres'
)[];

interface Result {
  driver: string;
  singlePerSecond: number;
  groupPerSecond: number;
  enqueueP50Us: number;
  enqueueP99Us: number;
  enqueueMaxUs: number;
  batches: number;
  verified: boolean;
}

// A decision-sized record: what the gateway writes for every tool call.
const sampleRecord = (index: number): AuditRecord => ({
  actor: 'agent:agt_5x2k9m4q7r8t0v1w',
  action: 'decision.allowed',
  target: 'github.create_issue',
  details: {
    session: 'ses_3h7k2m9p4q',
    rules: ['allow-github-writes'],
    args_sha256: 'a3f1c9e2b7d4058e6f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70',
    index,
  },
});

async function withStore<T>(driver: 'sqlite' | 'postgres', fn: (store: Store) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-audit-'));
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const store =
    driver === 'sqlite'
      ? await openStore({ driver: 'sqlite', path: join(dir, 'bench.db') }, dir)
      : await openStore({ driver: 'postgres', url: POSTGRES_URL, schema }, dir);
  try {
    return await fn(store);
  } finally {
    await store.close();
    if (driver === 'postgres') await dropSchema(schema, POSTGRES_URL);
    await rm(dir, { recursive: true, force: true });
  }
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

async function oneEntryPerTransaction(store: Store): Promise<number> {
  const start = process.hrtime.bigint();
  for (let index = 0; index < SINGLE; index += 1) {
    const record = sampleRecord(index);
    await store.appendAudit([
      toAuditEvent({
        time: new Date().toISOString(),
        actor: record.actor,
        action: record.action,
        target: record.target ?? null,
        details: record.details ?? {},
      }),
    ]);
  }
  return SINGLE / seconds(start);
}

async function groupCommit(store: Store, signer: CheckpointSigner) {
  let batches = 0;
  const counting: Store = {
    ...store,
    appendAudit: (events) => {
      batches += 1;
      return store.appendAudit(events);
    },
  };
  const log = createAuditLog({ store: counting, clock: systemClock, signer, maxBatch: MAX_BATCH });
  const latencies = new Float64Array(ENTRIES);
  const start = process.hrtime.bigint();
  let previous: Promise<AuditEntry[]> = Promise.resolve([]);
  for (let offset = 0; offset < ENTRIES; offset += WAVE) {
    const wave: Promise<AuditEntry>[] = [];
    const end = Math.min(offset + WAVE, ENTRIES);
    for (let index = offset; index < end; index += 1) {
      const record = sampleRecord(index);
      const before = process.hrtime.bigint();
      wave.push(log.record(record));
      latencies[index] = Number(process.hrtime.bigint() - before);
    }
    // Two waves in flight: the next is being enqueued while the previous commits.
    await previous;
    previous = Promise.all(wave);
  }
  await previous;
  const perSecond = ENTRIES / seconds(start);
  await log.close();
  latencies.sort();
  const quantile = (q: number) =>
    (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) / 1000;
  return {
    perSecond,
    batches,
    enqueueP50Us: quantile(0.5),
    enqueueP99Us: quantile(0.99),
    enqueueMaxUs: (latencies[latencies.length - 1] ?? 0) / 1000,
  };
}

async function run(driver: 'sqlite' | 'postgres'): Promise<Result> {
  const { signer, jwks } = await createTestSigner('bench');
  const singlePerSecond = await withStore(driver, oneEntryPerTransaction);
  return withStore(driver, async (store) => {
    const group = await groupCommit(store, signer);
    const report = await verifyStoredAudit({ store, jwks, requireCheckpointAtEnd: true });
    return {
      driver,
      singlePerSecond,
      groupPerSecond: group.perSecond,
      enqueueP50Us: group.enqueueP50Us,
      enqueueP99Us: group.enqueueP99Us,
      enqueueMaxUs: group.enqueueMaxUs,
      batches: group.batches,
      verified: report.ok && report.entries === ENTRIES,
    };
  });
}

const results: Result[] = [];
for (const driver of DRIVERS) results.push(await run(driver));

const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
console.log(
  `audit log: ${fmt(ENTRIES)} group-committed entries (waves of ${fmt(WAVE)}, maxBatch ${fmt(MAX_BATCH)}), ` +
    `${fmt(SINGLE)} single-entry transactions; Node ${process.version}, ${cpus().length} cores`,
);
console.table(
  results.map((result) => ({
    store: result.driver,
    'one entry/tx (entries/s)': fmt(result.singlePerSecond),
    'group commit (entries/s)': fmt(result.groupPerSecond),
    'avg batch': fmt(ENTRIES / result.batches),
    'enqueue p50 (µs)': fmt(result.enqueueP50Us, 2),
    'enqueue p99 (µs)': fmt(result.enqueueP99Us, 2),
    'enqueue max (µs)': fmt(result.enqueueMaxUs, 0),
    'chain verified': result.verified,
  })),
);
