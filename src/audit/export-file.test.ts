import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSigner } from '../../test/support/checkpoint-signer.js';
import { openTestStore, STORE_DRIVERS, type TestStore } from '../../test/support/stores.js';
import { createManualClock } from '../lib/clock.js';
import type { Store } from '../store/index.js';
import { createAuditLog } from './audit-log.js';
import { hashAuditEntry } from './chain.js';
import { readAuditExport, verifyStoredAudit, writeAuditExport } from './export-file.js';
import type { AuditCheckpoint } from './types.js';
import { verifyAuditTrail } from './verify.js';

// More than one page of the exporter (1000), so paging is exercised.
const CHAIN_LENGTH = 2100;

type Line = Record<string, unknown>;

describe.each(STORE_DRIVERS)('audit export on %s', (driver) => {
  let fixture: TestStore;
  let dir: string;
  let store: Store;
  let jwks: { keys: JWK[] };
  let exported: string;
  let lines: Line[];

  beforeAll(async () => {
    fixture = await openTestStore(driver);
    store = fixture.store;
    dir = fixture.dataDir;
    const test = await createTestSigner();
    jwks = test.jwks;
    const log = createAuditLog({
      store,
      clock: createManualClock(),
      signer: test.signer,
      checkpointEvery: 500,
      checkpointIntervalMs: 0,
    });
    await Promise.all(
      Array.from({ length: CHAIN_LENGTH }, (_, index) =>
        log.record({
          actor: index % 2 ? 'agent:agt_1' : 'admin:tok_1',
          action: 'test.recorded',
          target: index % 3 ? `t${index}` : null,
          // Quotes, backslashes, braces and non-ASCII exercise the PostgreSQL array-literal insert path.
          details: { index, nested: { list: [index, 'x', null, true] }, note: 'a "q" \\ {b,c} ünï ✓' },
        }),
      ),
    );
    await log.flush();
    const finalCheckpoint = await log.checkpointNow();
    await log.close();
    exported = join(dir, 'audit.jsonl');
    const summary = await writeAuditExport({
      store,
      out: exported,
      ...(finalCheckpoint ? { finalCheckpoint } : {}),
    });
    expect(summary).toMatchObject({ entries: CHAIN_LENGTH, lastSeq: CHAIN_LENGTH });
    lines = (await readFile(exported, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Line);
  });

  afterAll(async () => {
    await fixture?.dispose();
  });

  const entryLines = () => lines.filter((line) => line.type === 'entry');
  const checkpointLines = () => lines.filter((line) => line.type === 'checkpoint');

  /** Writes `tampered` as an export file, reads it back and verifies it strictly. */
  const verifyLines = async (tampered: Line[]) => {
    const path = join(dir, `tampered-${randomBytes(4).toString('hex')}.jsonl`);
    await writeFile(path, `${tampered.map((line) => JSON.stringify(line)).join('\n')}\n`);
    const read = await readAuditExport(path);
    return verifyAuditTrail({ ...read, jwks, requireCheckpointAtEnd: true });
  };

  it('writes snake_case entry lines then checkpoint lines, ending in a checkpoint on the last entry', () => {
    expect(lines).toHaveLength(CHAIN_LENGTH + checkpointLines().length);
    expect(Object.keys(lines[0] ?? {}).sort()).toEqual(
      ['action', 'actor', 'details', 'hash', 'prev_hash', 'seq', 'target', 'time', 'type'].sort(),
    );
    expect(lines.findIndex((line) => line.type === 'checkpoint')).toBe(CHAIN_LENGTH);
    expect(checkpointLines().at(-1)?.seq).toBe(CHAIN_LENGTH);
  });

  it('verifies an untampered export, and the store itself', async () => {
    const report = await verifyLines(lines);
    expect(report).toMatchObject({ ok: true, entries: CHAIN_LENGTH, lastSeq: CHAIN_LENGTH });
    expect(report.checkpoints.verified).toBeGreaterThanOrEqual(2);
    expect(await verifyStoredAudit({ store, jwks, requireCheckpointAtEnd: true })).toMatchObject({
      ok: true,
      entries: CHAIN_LENGTH,
    });
  });

  it('names the modified entry', async () => {
    const tampered = lines.map((line) =>
      line.type === 'entry' && line.seq === 1234
        ? { ...line, details: { index: 1234, approved: true } }
        : line,
    );
    expect(await verifyLines(tampered)).toMatchObject({
      ok: false,
      firstBadSeq: 1234,
      problem: { code: 'hash_mismatch' },
    });
  });

  it('names a deleted entry in the middle', async () => {
    const tampered = lines.filter((line) => !(line.type === 'entry' && line.seq === 777));
    expect(await verifyLines(tampered)).toMatchObject({
      ok: false,
      firstBadSeq: 777,
      problem: { code: 'seq_gap' },
    });
  });

  it('names a deleted last entry', async () => {
    const tampered = lines.filter((line) => !(line.type === 'entry' && line.seq === CHAIN_LENGTH));
    expect(await verifyLines(tampered)).toMatchObject({
      ok: false,
      firstBadSeq: CHAIN_LENGTH,
      problem: { code: 'chain_truncated' },
    });
    // The same deletion with the final checkpoint dropped too is still caught: the end is not covered.
    const lastCheckpoint = checkpointLines().at(-1);
    expect(await verifyLines(tampered.filter((line) => line !== lastCheckpoint))).toMatchObject({
      ok: false,
      problem: { code: 'checkpoint_missing_at_end' },
    });
  });

  it('names the first of two reordered entries', async () => {
    const entries = entryLines();
    const tampered = [...lines];
    const [a, b] = [
      entries.findIndex((line) => line.seq === 300),
      entries.findIndex((line) => line.seq === 301),
    ];
    [tampered[a], tampered[b]] = [tampered[b] as Line, tampered[a] as Line];
    expect(await verifyLines(tampered)).toMatchObject({ ok: false, firstBadSeq: 300 });

    const farApart = [...lines];
    const [c, d] = [
      entries.findIndex((line) => line.seq === 50),
      entries.findIndex((line) => line.seq === 1900),
    ];
    [farApart[c], farApart[d]] = [farApart[d] as Line, farApart[c] as Line];
    expect(await verifyLines(farApart)).toMatchObject({ ok: false, firstBadSeq: 50 });
  });

  it('names an inserted forged entry, even one that links to its predecessor', async () => {
    const entries = entryLines();
    // Off any checkpoint, where the forgery would show first as a checkpoint mismatch.
    const checkpointed = new Set(checkpointLines().map((line) => line.seq));
    const seq = [1000, 1001, 1002].find((candidate) => !checkpointed.has(candidate)) as number;
    const previous = entries.find((line) => line.seq === seq - 1) as Line;
    const unhashed = {
      seq,
      time: '2026-01-01T00:00:00.000Z',
      actor: 'admin:tok_1',
      action: 'agent.approved',
      target: 'agt_evil',
      details: {},
      prevHash: previous.hash as string,
    };
    const forged = {
      type: 'entry',
      seq: unhashed.seq,
      time: unhashed.time,
      actor: unhashed.actor,
      action: unhashed.action,
      target: unhashed.target,
      details: unhashed.details,
      prev_hash: unhashed.prevHash,
      hash: hashAuditEntry(unhashed),
    };
    const position = lines.indexOf(previous) + 1;
    const tampered = [...lines.slice(0, position), forged, ...lines.slice(position)];
    expect(await verifyLines(tampered)).toMatchObject({
      ok: false,
      firstBadSeq: seq,
      problem: { code: 'seq_order' },
    });

    // A careless forgery (wrong hash) is named at the same seq.
    const careless = [
      ...lines.slice(0, position),
      { ...forged, hash: 'a'.repeat(64) },
      ...lines.slice(position),
    ];
    expect(await verifyLines(careless)).toMatchObject({ ok: false, firstBadSeq: seq });
  });

  it('rejects garbage lines with invalid_audit_file naming the line', async () => {
    const path = join(dir, 'garbage.jsonl');
    const first = JSON.stringify(lines[0]);
    const cases: [string, RegExp][] = [
      [`${first}\nnot json\n`, /^line 2: not JSON/],
      [`${first}\n${JSON.stringify({ ...lines[1], extra: 1 })}\n`, /^line 2: /],
      [`${JSON.stringify({ ...lines[0], seq: -1 })}\n`, /^line 1: `seq`/],
      [`${JSON.stringify({ ...lines[0], hash: 'XYZ' })}\n`, /^line 1: `hash`/],
      [`${JSON.stringify({ type: 'comment' })}\n`, /^line 1: /],
    ];
    for (const [text, message] of cases) {
      await writeFile(path, text);
      await expect(readAuditExport(path)).rejects.toMatchObject({ code: 'invalid_audit_file', message });
    }
    await expect(readAuditExport(join(dir, 'missing.jsonl'))).rejects.toMatchObject({
      code: 'invalid_audit_file',
    });
  });

  it('exports only checkpoints within the exported snapshot', async () => {
    const checkpoints: AuditCheckpoint[] = await store.audit.listCheckpoints();
    expect(checkpoints.every((checkpoint) => checkpoint.seq <= CHAIN_LENGTH)).toBe(true);
    expect(checkpointLines().map((line) => line.seq)).toEqual(
      checkpoints.map((checkpoint) => checkpoint.seq),
    );
  });
});

describe('an export that stops at a checkpoint', () => {
  it('leaves entries appended after the checkpoint to the next export, and verifies strictly', async () => {
    const fixture = await openTestStore('sqlite');
    try {
      const { signer, jwks } = await createTestSigner();
      const log = createAuditLog({
        store: fixture.store,
        clock: createManualClock(),
        signer,
        checkpointIntervalMs: 0,
      });
      const record = (index: number) =>
        log.record({ actor: 'system', action: 'test.recorded', details: { index } });
      await Promise.all([1, 2, 3, 4, 5].map(record));
      const checkpoint = await log.checkpointNow();
      // Entries racing the export: committed after the checkpoint, before the file is written.
      await Promise.all([6, 7].map(record));
      await log.flush();
      const out = join(fixture.dataDir, 'snapshot.jsonl');
      const summary = await writeAuditExport({ store: fixture.store, out, untilSeq: checkpoint?.seq });
      expect(summary).toMatchObject({ entries: 5, lastSeq: 5, checkpoints: 1 });
      const report = await verifyAuditTrail({
        ...(await readAuditExport(out)),
        jwks,
        requireCheckpointAtEnd: true,
      });
      expect(report).toMatchObject({ ok: true, entries: 5, lastSeq: 5 });
      await log.close();
    } finally {
      await fixture.dispose();
    }
  });
});
