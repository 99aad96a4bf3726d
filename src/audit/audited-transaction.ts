import type { Clock } from '../lib/clock.js';
import type { Repositories, Store } from '../store/index.js';
import { toAuditEvent } from './chain.js';
import type { AuditRecord } from './types.js';

export type Emit = (record: Omit<AuditRecord, 'actor'> & { actor?: string }) => void;

/**
 * Runs a change and appends the audit events it emitted (in order) in the same store transaction: a
 * change is never committed without its audit entries, nor an entry without its change.
 */
export async function auditedTransaction<T>(
  deps: { store: Store; clock: Clock },
  actor: string,
  change: (tx: Repositories, emit: Emit) => Promise<T>,
): Promise<T> {
  return deps.store.transactionWithAudit(async (tx) => {
    const records: AuditRecord[] = [];
    const emit: Emit = (record) => records.push({ ...record, actor: record.actor ?? actor });
    const result = await change(tx, emit);
    if (records.length > 0) {
      const time = new Date(deps.clock.now()).toISOString();
      await tx.appendAudit(
        records.map((record) =>
          toAuditEvent({
            time,
            actor: record.actor,
            action: record.action,
            target: record.target ?? null,
            details: record.details ?? {},
          }),
        ),
      );
    }
    return result;
  });
}
