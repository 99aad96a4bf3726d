import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../lib/canonical-json.js';
import { canonicalAuditJson, chainAuditEvents, EMPTY_CHAIN_HEAD, hashAuditEntry } from './chain.js';
import { GENESIS_HASH } from './types.js';

const generic = (entry: Parameters<typeof canonicalAuditJson>[0]) =>
  canonicalJson({
    seq: entry.seq,
    time: entry.time,
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    details: entry.details,
    prev_hash: entry.prevHash,
  });

const base = {
  seq: 7,
  time: '2026-01-01T00:00:00.000Z',
  actor: 'agent:agt_1',
  action: 'decision.allowed',
  target: 'github.create_issue' as string | null,
  prevHash: GENESIS_HASH,
};

describe('canonicalAuditJson', () => {
  // The fast path must produce exactly the generic RFC 8785 text, or stored hashes would stop verifying.
  it.each([
    ['empty details', {}],
    ['nested values', { b: [1, 'two', null, true, false, { z: 1, a: [] }], a: { y: 2.5, x: -0 } }],
    ['numbers', { big: 1e21, small: 1e-7, neg: -123.456, max: Number.MAX_SAFE_INTEGER, frac: 0.1 + 0.2 }],
    [
      'escapes and unicode',
      { 'quote"key': 'line\nbreak\t"q" \\ \u0001', emoji: '😀', accents: 'ünïcode', '€': 1 },
    ],
    ['key order by UTF-16 code units', { b: 1, B: 2, a: 3, '\u00e9': 4, '\ud83d\ude00': 5, '\uff61': 6 }],
    ['a null-prototype object', Object.assign(Object.create(null) as Record<string, unknown>, { k: 'v' })],
  ])('matches the generic serializer: %s', (_name, details) => {
    const entry = { ...base, details };
    expect(canonicalAuditJson(entry)).toBe(generic(entry));
    expect(canonicalAuditJson({ ...entry, target: null })).toBe(generic({ ...entry, target: null }));
  });

  it('falls back to the generic serializer for values that are not plain JSON', () => {
    const details = { when: new Date(0), skipped: undefined, list: [undefined] };
    const entry = { ...base, details };
    expect(canonicalAuditJson(entry)).toBe(generic(entry));
    expect(() => canonicalAuditJson({ ...base, details: { bad: Number.NaN } })).toThrow();
  });

  it('chains events onto a head, each hash covering the previous one', () => {
    const entries = chainAuditEvents(EMPTY_CHAIN_HEAD, [
      { time: base.time, actor: 'system', action: 'a', target: null, details: {} },
      { time: base.time, actor: 'system', action: 'b', target: 't', details: { n: 1 } },
    ]);
    expect(entries.map((entry) => entry.seq)).toEqual([1, 2]);
    expect(entries[0]?.prevHash).toBe(GENESIS_HASH);
    expect(entries[1]?.prevHash).toBe(entries[0]?.hash);
    for (const entry of entries) expect(hashAuditEntry(entry)).toBe(entry.hash);
  });
});
