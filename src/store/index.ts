export type { StoreConfig } from './open-store.js';
export { openStore } from './open-store.js';
export { openPostgresDatabase, type PostgresOptions } from './postgres/postgres-database.js';
export type { AdminTokenRepository } from './repositories/admin-tokens.js';
export type { AgentKeyRepository } from './repositories/agent-keys.js';
export type { AgentRepository } from './repositories/agents.js';
export type {
  ApprovalFilter,
  ApprovalRecord,
  ApprovalRepository,
  ApprovalState,
  ApprovalVote,
} from './repositories/approvals.js';
export type { AuditRepository } from './repositories/audit.js';
export type { CapabilityRedemptionRepository } from './repositories/capability-redemptions.js';
export type {
  DelegatedTokenRecord,
  DelegationRepository,
  TokenRevocation,
  TokenSession,
} from './repositories/delegations.js';
export type {
  DiscoveryCandidateFilter,
  DiscoveryCandidateRecord,
  DiscoveryFindingRecord,
  DiscoveryRepository,
  DiscoveryRun,
} from './repositories/discovery.js';
export type {
  LlmUsageFilter,
  LlmUsageGroup,
  LlmUsageGrouping,
  LlmUsageRecord,
  LlmUsageRepository,
} from './repositories/llm-usage.js';
export type { ManifestRepository } from './repositories/manifests.js';
export type { SessionCall, SessionRepository, StoredSession } from './repositories/policy-sessions.js';
export type {
  PolicyPointer,
  PolicyPointerName,
  PolicyVersion,
  PolicyVersionRepository,
} from './repositories/policy-versions.js';
export type { SecretRepository, StoredSecret } from './repositories/secrets.js';
export type { SigningKeyRepository } from './repositories/signing-keys.js';
export type { TeamRepository } from './repositories/teams.js';
export type { ToolPinRepository } from './repositories/tool-pins.js';
export type { UsedAssertionRepository } from './repositories/used-assertions.js';
export type { UserRepository } from './repositories/users.js';
export type { SqlDatabase, SqlDialect, SqlExecutor, SqlValue, TransactionOptions } from './sql.js';
export { UniqueViolationError } from './sql.js';
export { openSqliteDatabase, type SqliteOptions } from './sqlite/sqlite-database.js';
export { type AuditedRepositories, createStore, type Repositories, type Store } from './store.js';
