import { createHash } from 'node:crypto';
import { canonicalJson } from '../lib/canonical-json.js';
import { type AuditEntry, type AuditEvent, GENESIS_HASH } from './types.js';

/** The position the next entry chains onto. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_CHAIN_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

/** SHA-256 (hex) over the RFC 8785 canonical JSON of an entry without its own hash. */
export function hashAuditEntry(entry: Omit<AuditEntry, 'hash'>): string {
  const canonical = canonicalJson({
    seq: entry.seq,
    time: entry.time,
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    details: entry.details,
    prev_hash: entry.prevHash,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/** Places events after `head`, in order: assigns seq and prev_hash and computes each hash. */
export function chainAuditEvents(head: ChainHead, events: readonly AuditEvent[]): AuditEntry[] {
  const entries: AuditEntry[] = [];
  let seq = head.seq;
  let prevHash = head.hash;
  for (const event of events) {
    seq += 1;
    const unhashed = { seq, ...event, prevHash };
    const hash = hashAuditEntry(unhashed);
    entries.push({ ...unhashed, hash });
    prevHash = hash;
  }
  return entries;
}
