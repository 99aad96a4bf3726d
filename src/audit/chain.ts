import { hash } from 'node:crypto';
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
  // crypto.hash: about 2x faster than createHash for inputs this small, and hashing bounds audit throughput.
  return hash('sha256', canonicalAuditJson(entry), 'hex');
}

/**
 * The canonical JSON that `hashAuditEntry` hashes. Entries hold plain JSON (the log round-trips details through
 * JSON), so the keys, already in RFC 8785 order, are written directly: about 3x faster than the generic
 * serializer. Anything that is not plain JSON falls back to it, so the text is the same either way.
 */
export function canonicalAuditJson(entry: Omit<AuditEntry, 'hash'>): string {
  const details = plainCanonicalJson(entry.details);
  if (
    details === undefined ||
    typeof entry.action !== 'string' ||
    typeof entry.actor !== 'string' ||
    typeof entry.prevHash !== 'string' ||
    !Number.isSafeInteger(entry.seq) ||
    (entry.target !== null && typeof entry.target !== 'string') ||
    typeof entry.time !== 'string'
  ) {
    return canonicalJson({
      seq: entry.seq,
      time: entry.time,
      actor: entry.actor,
      action: entry.action,
      target: entry.target,
      details: entry.details,
      prev_hash: entry.prevHash,
    });
  }
  const target = entry.target === null ? 'null' : JSON.stringify(entry.target);
  return (
    `{"action":${JSON.stringify(entry.action)},"actor":${JSON.stringify(entry.actor)},"details":${details},` +
    `"prev_hash":${JSON.stringify(entry.prevHash)},"seq":${entry.seq},"target":${target},` +
    `"time":${JSON.stringify(entry.time)}}`
  );
}

/** RFC 8785 text of a plain JSON value, or undefined for anything else (toJSON, undefined, NaN, bigint...). */
function plainCanonicalJson(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      // ECMAScript number-to-string is RFC 8785's number form; non-finite numbers have none.
      return Number.isFinite(value) ? JSON.stringify(value) : undefined;
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let text = '[';
        for (let index = 0; index < value.length; index += 1) {
          const item = plainCanonicalJson(value[index]);
          if (item === undefined) return undefined;
          text += index === 0 ? item : `,${item}`;
        }
        return `${text}]`;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return undefined;
      // Default sort compares UTF-16 code units, as RFC 8785 requires.
      const keys = Object.keys(value).sort();
      let text = '{';
      for (let index = 0; index < keys.length; index += 1) {
        const key = keys[index] as string;
        const item = plainCanonicalJson((value as Record<string, unknown>)[key]);
        if (item === undefined) return undefined;
        text += `${index === 0 ? '' : ','}${JSON.stringify(key)}:${item}`;
      }
      return `${text}}`;
    }
    default:
      return undefined;
  }
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
