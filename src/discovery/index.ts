export { type AuditSource, scanTraffic, type TrafficScanOptions } from './audit-scanner.js';
export { type BuildReportInput, buildReport, finishReport, headlineOf } from './build-report.js';
export { createCatalog, type DiscoveryCatalog } from './catalog.js';
export {
  type DiscoverySchedule,
  discoverOnServer,
  type ServerDiscoveryDeps,
  scheduleDiscovery,
} from './discover-on-server.js';
export { type DiscoveryConfig, DiscoveryConfigSchema, defaultDiscoveryConfig } from './discovery-config.js';
export { matchEndpoint, resolveEndpoints } from './endpoints.js';
export { fingerprintSecret } from './fingerprint.js';
export { type PathScan, type PathScanOptions, scanPaths } from './fs-scanner.js';
export { groupCandidates } from './group-candidates.js';
export { type LogScanOptions, scanLogFiles } from './log-scanner.js';
export { CANDIDATE_LABEL, matchCandidate, matchRegistry, PATH_LABEL } from './match-registry.js';
export { type ProcessScan, type ProcessScanOptions, scanProcesses } from './proc-scanner.js';
export { recordDiscoveryRun } from './record-run.js';
export {
  type CandidateRegistration,
  type CandidateRegistrationResult,
  CandidateRegistrationSchema,
  registerCandidates,
  registrationFor,
} from './register-candidates.js';
export { loadRegistrySnapshot } from './registry-snapshot.js';
export { describeSkipped, renderReport } from './render-report.js';
export { type RunDiscoveryOptions, runDiscovery } from './run-discovery.js';
export {
  applyHistory,
  type DiscoveryRunRecord,
  DiscoveryRunRecordSchema,
  type RunHistory,
  toRunRecord,
} from './run-record.js';
export { TRAFFIC_ACTION_PREFIXES } from './traffic-findings.js';
export type {
  Candidate,
  CandidateStatus,
  DiscoveryProgress,
  DiscoveryReport,
  DiscoveryScope,
  DiscoverySummary,
  Finding,
  FindingKind,
  FindingSource,
  KeySighting,
  OwnerHint,
  ProgressListener,
  RegisteredAgentSnapshot,
  ScanStats,
} from './types.js';
export { emptyScanStats, FINDING_KINDS } from './types.js';
