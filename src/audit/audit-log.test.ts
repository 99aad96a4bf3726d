import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTestSigner } from '../../test/support/checkpoint-signer.js';
import { openTestStore, STORE_DRIVERS, type TestStore } from '../../test/support/stores.js';
import { GatehouseError } from '../errors/index.js';
import { createManualClock } from '../lib/clock.js';
import type { Store } from '../store/index.js';
import { type AuditLog, createAuditLog } from './audit-log.js';
import { verifyStoredAudit } from './export-file.js';
import type { AuditEvent } from './types.js';

describe.each(STORE_DRIVERS)('audit log on %s', (driver) => {
  let fixture: TestStore;
  let store: Store;
  const clock = createManualClock();
  const logs: AuditLog[] = [];
  const track = (log: AuditLog) => {
    logs.push(log);
    return log;
  };

  beforeEach(async () => {
    fixture = await openTestStore(driver);
    store = fixture.store;
  });

  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(logs.splice(0).map((log) => log.close().catch(() => {})));
    await fixture.dispose();
  });

  it('group-commits many concurrent records into one contiguous chain, each resolving with its seq', async () => {
    const batches: number[] = [];
    const counting: Store = {
      ...store,
      appendAudit: (events: readonly AuditEvent[]) => {
        batches.push(events.length);
        return store.appendAudit(events);
      },
    };
    const { signer, jwks } = await createTestSigner();
    const log = track(createAuditLog({ store: counting, clock, signer, maxBatch: 100, checkpointEvery: 0 }));
    const entries = await Promise.all(
      Array.from({ length: 450 }, (_, index) =>
        log.record({ actor: 'system', action: 'test.recorded', target: `t${index}`, details: { index } }),
      ),
    );

    expect(entries.map((entry) => entry.seq)).toEqual(Array.from({ length: 450 }, (_, index) => index + 1));
    expect(
      entries.every((entry, index) => entry.details.index === index && entry.target === `t${index}`),
    ).toBe(true);
    expect(batches).toEqual([100, 100, 100, 100, 50]);
    expect(await store.audit.count()).toBe(450);
    await log.close();
    const report = await verifyStoredAudit({ store, jwks, requireCheckpointAtEnd: true });
    expect(report).toMatchObject({ ok: true, entries: 450, lastSeq: 450, checkpoints: { verified: 1 } });
  });

  it('rejects a failed batch with audit_unavailable and keeps working for later records', async () => {
    let failNext = true;
    const flaky: Store = {
      ...store,
      appendAudit: async (events: readonly AuditEvent[]) => {
        if (failNext) {
          failNext = false;
          throw new Error('disk on fire');
        }
        return store.appendAudit(events);
      },
    };
    const log = track(createAuditLog({ store: flaky, clock }));
    const failed = await Promise.allSettled([
      log.record({ actor: 'system', action: 'a.one' }),
      log.record({ actor: 'system', action: 'a.two' }),
    ]);
    for (const result of failed) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(GatehouseError);
      expect(reason.code).toBe('audit_unavailable');
    }

    const later = await Promise.all([
      log.record({ actor: 'system', action: 'b.one' }),
      log.record({ actor: 'system', action: 'b.two', target: 'x' }),
    ]);
    expect(later.map((entry) => [entry.seq, entry.action])).toEqual([
      [1, 'b.one'],
      [2, 'b.two'],
    ]);
    expect((await verifyStoredAudit({ store, jwks: { keys: [] } })).ok).toBe(true);
  });

  it('rejects only the record whose details are not JSON, and every record after close', async () => {
    const log = track(createAuditLog({ store, clock }));
    const results = await Promise.allSettled([
      log.record({ actor: 'system', action: 'ok.one' }),
      log.record({ actor: 'system', action: 'bad.one', details: { big: 1n } }),
      log.record({ actor: 'system', action: 'ok.two' }),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.code).toBe('internal_error');

    await log.close();
    await expect(log.record({ actor: 'system', action: 'late' })).rejects.toMatchObject({
      code: 'audit_unavailable',
    });
    expect(await store.audit.count()).toBe(2);
  });

  it('checkpoints every `checkpointEvery` entries and on close', async () => {
    const { signer, jwks } = await createTestSigner();
    const log = track(createAuditLog({ store, clock, signer, checkpointEvery: 5, checkpointIntervalMs: 0 }));
    const wave = (count: number) =>
      Promise.all(Array.from({ length: count }, () => log.record({ actor: 'system', action: 'tick' })));

    expect(await log.checkpointNow()).toBeUndefined(); // empty chain
    await wave(5);
    await log.flush();
    await wave(5);
    await log.flush();
    await wave(2);
    await log.flush();
    expect((await store.audit.listCheckpoints()).map((checkpoint) => checkpoint.seq)).toEqual([5, 10]);

    await log.close();
    expect((await store.audit.listCheckpoints()).map((checkpoint) => checkpoint.seq)).toEqual([5, 10, 12]);
    expect(await log.checkpointNow()).toBeUndefined(); // head already covered
    const report = await verifyStoredAudit({ store, jwks, requireCheckpointAtEnd: true });
    expect(report).toMatchObject({ ok: true, lastSeq: 12, checkpoints: { verified: 3, unverifiable: 0 } });
  });

  it('checkpoints on the interval only when the head has moved', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { signer } = await createTestSigner();
    const log = track(
      createAuditLog({ store, clock, signer, checkpointEvery: 0, checkpointIntervalMs: 1000 }),
    );
    const seqs = async () => (await store.audit.listCheckpoints()).map((checkpoint) => checkpoint.seq);

    await Promise.all([1, 2, 3].map(() => log.record({ actor: 'system', action: 'tick' })));
    await vi.advanceTimersByTimeAsync(1000);
    await log.flush();
    expect(await seqs()).toEqual([3]);

    await vi.advanceTimersByTimeAsync(1000);
    await log.flush();
    expect(await seqs()).toEqual([3]);

    await log.record({ actor: 'system', action: 'tick' });
    await vi.advanceTimersByTimeAsync(1000);
    await log.flush();
    expect(await seqs()).toEqual([3, 4]);
  });

  it('keeps one valid chain when two logs on the same database append concurrently', async () => {
    const { signer, jwks } = await createTestSigner();
    const other = await fixture.reopen();
    const first = track(createAuditLog({ store, clock, signer, maxBatch: 64, checkpointEvery: 100 }));
    const second = track(createAuditLog({ store: other, clock, signer, maxBatch: 64, checkpointEvery: 100 }));

    const pending = [];
    for (let index = 0; index < 300; index += 1) {
      pending.push(first.record({ actor: 'process:a', action: 'test.recorded', details: { index } }));
      pending.push(second.record({ actor: 'process:b', action: 'test.recorded', details: { index } }));
      // Spread over several ticks so the two logs' batches interleave.
      if (index % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
    const entries = await Promise.all(pending);
    await Promise.all([first.close(), second.close()]);

    const seqs = entries.map((entry) => entry.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 600 }, (_, index) => index + 1));
    // The two writers' batches really interleaved: neither got one contiguous block.
    const firstSeqs = entries.filter((entry) => entry.actor === 'process:a').map((entry) => entry.seq);
    expect(Math.max(...firstSeqs) - Math.min(...firstSeqs)).toBeGreaterThan(300);
    const report = await verifyStoredAudit({ store, jwks, requireCheckpointAtEnd: true });
    expect(report).toMatchObject({ ok: true, entries: 600, lastSeq: 600 });
    expect(report.checkpoints.verified).toBeGreaterThanOrEqual(1);
  });
});
