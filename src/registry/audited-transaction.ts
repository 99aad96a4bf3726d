import type { AuditRecord } from '../audit/types.js';
import type { Repositories } from '../store/index.js';
import type { RegistryDeps } from './deps.js';

export type Emit = (record: Omit<AuditRecord, 'actor'> & { actor?: string }) => void;

/**
 * Runs a registry change in one store transaction and, once it has committed, records the audit events it
 * emitted (in order). The caller's promise resolves only when those entries are durable too.
 */
export async function auditedTransaction<T>(
  deps: RegistryDeps,
  actor: string,
  change: (tx: Repositories, emit: Emit) => Promise<T>,
): Promise<T> {
  const records: AuditRecord[] = [];
  const emit: Emit = (record) => records.push({ ...record, actor: record.actor ?? actor });
  const result = await deps.store.transaction((tx) => change(tx, emit));
  await Promise.all(records.map((record) => deps.audit.record(record)));
  return result;
}
