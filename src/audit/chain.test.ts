import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../lib/canonical-json.js';
import {
  canonicalAuditJson,
  chainAuditEvents,
  EMPTY_CHAIN_HEAD,
  hashAuditEntry,
  toAuditEvent,
} from './chain.js';
import { GENESIS_HASH } from './types.js';

const entry = {
  seq: 7,
  time: '2026-01-01T00:00:00.000Z',
  actor: 'agent:agt_1',
  action: 'decision.allowed',
  target: 'github.create_issue' as string | null,
  details: { b: [1, 'two', null, true], a: { y: 'ünïcode "q"' } },
  prevHash: GENESIS_HASH,
};

describe('audit entry hashing', () => {
  // Known answer from an independent implementation (Python: json.dumps(sort_keys=True, separators=(',', ':'),
  // ensure_ascii=False), then hashlib.sha256): an offline verifier in another language must get the same bytes.
  it('hashes the RFC 8785 text of the entry with snake_case prev_hash', () => {
    expect(canonicalAuditJson(entry)).toBe(
      '{"action":"decision.allowed","actor":"agent:agt_1","details":{"a":{"y":"ünïcode \\"q\\""},"b":[1,"two",null,true]},' +
        `"prev_hash":"${GENESIS_HASH}","seq":7,"target":"github.create_issue","time":"2026-01-01T00:00:00.000Z"}`,
    );
    expect(hashAuditEntry(entry)).toBe('45dbe57052e7079f42d6b93bbce2ad3e256ed978c7aa256c109d7fb3a81d12a3');
  });

  it('equals the library canonicalizing the whole entry', () => {
    for (const sample of [
      entry,
      { ...entry, target: null, details: { z: [{ b: 1, a: 2 }], '\u00e9': 'é', '\ud83d\ude00': 1e21 } },
    ]) {
      expect(canonicalAuditJson(sample)).toBe(
        canonicalJson({
          seq: sample.seq,
          time: sample.time,
          actor: sample.actor,
          action: sample.action,
          target: sample.target,
          details: sample.details,
          prev_hash: sample.prevHash,
        }),
      );
    }
  });

  it('changes with any field', () => {
    const original = hashAuditEntry(entry);
    expect(hashAuditEntry({ ...entry, seq: 8 })).not.toBe(original);
    expect(hashAuditEntry({ ...entry, target: null })).not.toBe(original);
    expect(hashAuditEntry({ ...entry, details: { ...entry.details, c: 1 } })).not.toBe(original);
    expect(hashAuditEntry({ ...entry, prevHash: 'f'.repeat(64) })).not.toBe(original);
  });

  it('refuses values with no JSON form', () => {
    expect(() => hashAuditEntry({ ...entry, details: { bad: Number.NaN } })).toThrow();
  });

  it('chains events onto a head, each hash covering the previous one', () => {
    const entries = chainAuditEvents(EMPTY_CHAIN_HEAD, [
      toAuditEvent({ time: entry.time, actor: 'system', action: 'a', target: null, details: {} }),
      toAuditEvent({ time: entry.time, actor: 'system', action: 'b', target: 't', details: { n: 1 } }),
    ]);
    expect(entries.map((e) => e.seq)).toEqual([1, 2]);
    expect(entries[0]?.prevHash).toBe(GENESIS_HASH);
    expect(entries[1]?.prevHash).toBe(entries[0]?.hash);
    for (const e of entries) expect(hashAuditEntry(e)).toBe(e.hash);
  });
});
