import type { AuditEntry, AuditRecord, AuditRecorder } from '../../src/audit/types.js';

/** An audit recorder that keeps what it is given in `records`, answering each with its position as `seq`. */
export function collectingRecorder(): AuditRecorder & { records: AuditRecord[] } {
  const records: AuditRecord[] = [];
  return {
    records,
    async record(record) {
      records.push(record);
      return { seq: records.length } as AuditEntry;
    },
  };
}
