import { hash } from 'node:crypto';
import { canonicalJson } from '../lib/canonical-json.js';
import { type AuditEntry, type AuditEvent, type ChainedAuditEntry, GENESIS_HASH } from './types.js';

/** The position the next entry chains onto. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_CHAIN_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

/** SHA-256 (hex) over the RFC 8785 canonical JSON of an entry without its own hash. */
export function hashAuditEntry(entry: Omit<AuditEntry, 'hash'>, detailsJson?: string): string {
  // crypto.hash: about 2x faster than createHash for inputs this small, and hashing bounds audit throughput.
  return hash('sha256', canonicalAuditJson(entry, detailsJson), 'hex');
}

/**
 * The canonical JSON (RFC 8785) that `hashAuditEntry` hashes. The free-form `details` are canonicalized by the
 * `canonicalize` library; the seven envelope keys are fixed and written here in RFC 8785 order (UTF-16 code
 * unit order: action, actor, details, prev_hash, seq, target, time) with JSON.stringify, which is RFC 8785's
 * string and number serialization. Measured 40% faster than canonicalizing the whole entry, on the audit hot
 * path; a test pins it to the library's output and to an independent implementation's hash.
 */
export function canonicalAuditJson(
  entry: Omit<AuditEntry, 'hash'>,
  detailsJson: string = canonicalJson(entry.details),
): string {
  if (!Number.isSafeInteger(entry.seq)) throw new TypeError('audit seq must be a safe integer');
  return (
    `{"action":${JSON.stringify(entry.action)},"actor":${JSON.stringify(entry.actor)},` +
    `"details":${detailsJson},"prev_hash":${JSON.stringify(entry.prevHash)},"seq":${entry.seq},` +
    `"target":${entry.target === null ? 'null' : JSON.stringify(entry.target)},"time":${JSON.stringify(entry.time)}}`
  );
}

/** An audit event from plain fields: canonicalizes the details once (throws if they have no JSON form). */
export function toAuditEvent(
  fields: Pick<AuditEntry, 'time' | 'actor' | 'action' | 'target' | 'details'>,
): AuditEvent {
  const { details, ...rest } = fields;
  return { ...rest, detailsJson: canonicalJson(details) };
}

/** Places events after `head`, in order: assigns seq and prev_hash and computes each hash. */
export function chainAuditEvents(head: ChainHead, events: readonly AuditEvent[]): ChainedAuditEntry[] {
  const entries: ChainedAuditEntry[] = [];
  let seq = head.seq;
  let prevHash = head.hash;
  for (const event of events) {
    seq += 1;
    // Built field by field, not by spreading: this loop is the audit log's hot path.
    const entry: ChainedAuditEntry = {
      seq,
      time: event.time,
      actor: event.actor,
      action: event.action,
      target: event.target,
      details: JSON.parse(event.detailsJson) as Record<string, unknown>,
      prevHash,
      hash: '',
      detailsJson: event.detailsJson,
    };
    entry.hash = hashAuditEntry(entry, event.detailsJson);
    entries.push(entry);
    prevHash = entry.hash;
  }
  return entries;
}
