import type { Store } from '../store/index.js';
import type { ChainHead } from './chain.js';
import type { AuditEntry } from './types.js';
import { verifyAuditTrail } from './verify.js';

// Entries read from the store per query, so an export or a verification never holds the whole chain.
export const STORED_ENTRIES_PAGE_SIZE = 1000;
const PAGE_SIZE = STORED_ENTRIES_PAGE_SIZE;

/** The store's entries with seq in (afterSeq, untilSeq], in order, one page at a time. */
export async function* streamStoredEntries(
  store: Store,
  untilSeq: number = Number.MAX_SAFE_INTEGER,
  afterSeq = 0,
): AsyncGenerator<AuditEntry> {
  let cursor = afterSeq;
  while (cursor < untilSeq) {
    const page = await store.audit.list(cursor, PAGE_SIZE);
    for (const entry of page) {
      if (entry.seq > untilSeq) return;
      yield entry;
      cursor = entry.seq;
    }
    if (page.length < PAGE_SIZE) return;
  }
}

/**
 * Re-checks the stored entries after `from` up to `until` (seq continuity, links, hashes) and returns the seq of
 * the first one that does not check out, or undefined. Run before signing a checkpoint, so Gatehouse never puts
 * its signature on a chain someone edited in the database since the last checkpoint.
 */
export async function findBrokenStoredEntry(
  store: Store,
  from: ChainHead,
  until: number,
): Promise<number | undefined> {
  const report = await verifyAuditTrail({
    entries: streamStoredEntries(store, until, from.seq),
    checkpoints: [],
    jwks: { keys: [] },
    after: from,
  });
  if (!report.ok) return report.firstBadSeq ?? report.lastSeq + 1;
  // Entries missing at the end (deleted since the head was read) break the chain too.
  return report.lastSeq < until ? report.lastSeq + 1 : undefined;
}
