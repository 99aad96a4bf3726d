import { describe, expect, it } from 'vitest';
import { createTestSigner } from '../../test/support/checkpoint-signer.js';
import { chainAuditEvents, EMPTY_CHAIN_HEAD, hashAuditEntry, toAuditEvent } from './chain.js';
import type { AuditEntry } from './types.js';
import { verifyAuditTrail } from './verify.js';

function makeChain(length: number): AuditEntry[] {
  return chainAuditEvents(
    EMPTY_CHAIN_HEAD,
    Array.from({ length }, (_, index) =>
      toAuditEvent({
        time: new Date(Date.UTC(2026, 0, 1, 0, 0, index)).toISOString(),
        actor: 'system',
        action: 'test.recorded',
        target: null,
        details: { index },
      }),
    ),
  );
}

const at = <T>(items: readonly T[], index: number): T => {
  const item = items[index];
  if (item === undefined) throw new Error(`no item at ${index}`);
  return item;
};

describe('verifyAuditTrail', () => {
  it('accepts an intact chain with a checkpoint at the end', async () => {
    const key = await createTestSigner('k1');
    const entries = makeChain(10);
    const report = await verifyAuditTrail({
      entries,
      checkpoints: [await key.checkpoint(at(entries, 4)), await key.checkpoint(at(entries, 9))],
      jwks: { keys: [key.jwk] },
      requireCheckpointAtEnd: true,
    });
    expect(report).toEqual({
      ok: true,
      entries: 10,
      lastSeq: 10,
      lastHash: at(entries, 9).hash,
      checkpoints: { verified: 2, unverifiable: 0 },
    });
  });

  it('reads entries from an async iterable', async () => {
    const entries = makeChain(3);
    async function* stream() {
      yield* entries;
    }
    const report = await verifyAuditTrail({ entries: stream(), checkpoints: [], jwks: { keys: [] } });
    expect(report).toMatchObject({ ok: true, entries: 3, lastSeq: 3 });
  });

  it('accepts an empty chain unless a checkpoint is required', async () => {
    expect((await verifyAuditTrail({ entries: [], checkpoints: [], jwks: { keys: [] } })).ok).toBe(true);
    const required = await verifyAuditTrail({
      entries: [],
      checkpoints: [],
      jwks: { keys: [] },
      requireCheckpointAtEnd: true,
    });
    expect(required.problem?.code).toBe('no_verified_checkpoint');
  });

  it('counts a checkpoint by a retired key as unverifiable and relies on a later one', async () => {
    const retired = await createTestSigner('old');
    const current = await createTestSigner('new', 'ES256');
    const entries = makeChain(6);
    const checkpoints = [await retired.checkpoint(at(entries, 2)), await current.checkpoint(at(entries, 5))];
    const report = await verifyAuditTrail({
      entries,
      checkpoints,
      jwks: { keys: [current.jwk] },
      requireCheckpointAtEnd: true,
    });
    expect(report).toMatchObject({ ok: true, checkpoints: { verified: 1, unverifiable: 1 } });

    const onlyRetired = await verifyAuditTrail({
      entries,
      checkpoints: [await retired.checkpoint(at(entries, 5))],
      jwks: { keys: [current.jwk] },
      requireCheckpointAtEnd: true,
    });
    expect(onlyRetired).toMatchObject({
      ok: false,
      firstBadSeq: 1,
      problem: { code: 'no_verified_checkpoint' },
    });
  });

  it('rejects a checkpoint with a broken signature', async () => {
    const key = await createTestSigner('k1');
    const entries = makeChain(4);
    const checkpoint = await key.checkpoint(at(entries, 3));
    const [header, payload, signature] = checkpoint.signature.split('.');
    const flipped = `${signature?.startsWith('A') ? 'B' : 'A'}${signature?.slice(1)}`;
    const report = await verifyAuditTrail({
      entries,
      checkpoints: [{ ...checkpoint, signature: `${header}.${payload}.${flipped}` }],
      jwks: { keys: [key.jwk] },
    });
    expect(report).toMatchObject({
      ok: false,
      firstBadSeq: 4,
      problem: { code: 'checkpoint_signature_invalid' },
    });
  });

  it('rejects a checkpoint whose record disagrees with its signed payload', async () => {
    const key = await createTestSigner('k1');
    const entries = makeChain(4);
    const checkpoint = await key.checkpoint(at(entries, 3));
    const report = await verifyAuditTrail({
      entries,
      checkpoints: [{ ...checkpoint, seq: 2, hash: at(entries, 1).hash }],
      jwks: { keys: [key.jwk] },
    });
    expect(report).toMatchObject({ ok: false, firstBadSeq: 2, problem: { code: 'checkpoint_mismatch' } });
  });

  it('catches a re-forged chain by the checkpoint it no longer matches', async () => {
    const key = await createTestSigner('k1');
    const entries = makeChain(8);
    const checkpoints = [await key.checkpoint(at(entries, 7))];
    // Every entry rewritten and re-hashed: the links are all consistent, only the signature tells.
    const forged = chainAuditEvents(
      EMPTY_CHAIN_HEAD,
      entries.map((entry) => toAuditEvent({ ...entry, details: { forged: true } })),
    );
    const report = await verifyAuditTrail({ entries: forged, checkpoints, jwks: { keys: [key.jwk] } });
    expect(report).toMatchObject({ ok: false, firstBadSeq: 8, problem: { code: 'checkpoint_mismatch' } });

    const withoutCheckpoints = await verifyAuditTrail({
      entries: forged,
      checkpoints: [],
      jwks: { keys: [key.jwk] },
      requireCheckpointAtEnd: true,
    });
    expect(withoutCheckpoints).toMatchObject({ ok: false, problem: { code: 'no_verified_checkpoint' } });
  });

  it('catches entries appended after the last checkpoint only when a checkpoint at the end is required', async () => {
    const key = await createTestSigner('k1');
    const entries = makeChain(5);
    const checkpoints = [await key.checkpoint(at(entries, 4))];
    const tail = { seq: 6, time: '2026-02-01T00:00:00.000Z', actor: 'attacker', action: 'x', target: null };
    const unhashed = { ...tail, details: {}, prevHash: at(entries, 4).hash };
    const appended = [...entries, { ...unhashed, hash: hashAuditEntry(unhashed) }];

    const lenient = await verifyAuditTrail({ entries: appended, checkpoints, jwks: { keys: [key.jwk] } });
    expect(lenient.ok).toBe(true);
    const strict = await verifyAuditTrail({
      entries: appended,
      checkpoints,
      jwks: { keys: [key.jwk] },
      requireCheckpointAtEnd: true,
    });
    expect(strict).toMatchObject({
      ok: false,
      firstBadSeq: 6,
      problem: { code: 'checkpoint_missing_at_end' },
    });
  });

  it('names a broken prev_hash link', async () => {
    const entries = makeChain(5);
    const third = at(entries, 2);
    const relinked = { ...third, prevHash: 'f'.repeat(64) };
    const tampered = entries.map((entry) =>
      entry.seq === 3 ? { ...relinked, hash: hashAuditEntry(relinked) } : entry,
    );
    const report = await verifyAuditTrail({ entries: tampered, checkpoints: [], jwks: { keys: [] } });
    expect(report).toMatchObject({ ok: false, firstBadSeq: 3, problem: { code: 'prev_hash_mismatch' } });
    expect(report).toMatchObject({ entries: 2, lastSeq: 2 });
  });
});
