export { AUDIT_LOG_DEFAULTS, type AuditLog, type AuditLogOptions, createAuditLog } from './audit-log.js';
export { type ChainHead, chainAuditEvents, EMPTY_CHAIN_HEAD, hashAuditEntry, toAuditEvent } from './chain.js';
export {
  type AuditExportSummary,
  readAuditExport,
  verifyStoredAudit,
  writeAuditExport,
} from './export-file.js';
export { findBrokenStoredEntry, streamStoredEntries } from './stored-entries.js';
export type {
  AuditCheckpoint,
  AuditEntry,
  AuditEvent,
  AuditRecord,
  AuditRecorder,
  CheckpointSigner,
} from './types.js';
export { GENESIS_HASH } from './types.js';
export {
  type AuditProblemCode,
  type AuditVerifyInput,
  type AuditVerifyReport,
  verifyAuditTrail,
} from './verify.js';
