import { chainAuditEvents } from '../audit/chain.js';
import type { AuditEvent, ChainedAuditEntry } from '../audit/types.js';
import { type AdminTokenRepository, createAdminTokenRepository } from './repositories/admin-tokens.js';
import { type AgentKeyRepository, createAgentKeyRepository } from './repositories/agent-keys.js';
import { type AgentRepository, createAgentRepository } from './repositories/agents.js';
import { type ApprovalRepository, createApprovalRepository } from './repositories/approvals.js';
import { type AuditRepository, createAuditRepository } from './repositories/audit.js';
import {
  type CapabilityRedemptionRepository,
  createCapabilityRedemptionRepository,
} from './repositories/capability-redemptions.js';
import { createDelegationRepository, type DelegationRepository } from './repositories/delegations.js';
import { createDiscoveryRepository, type DiscoveryRepository } from './repositories/discovery.js';
import { createLlmUsageRepository, type LlmUsageRepository } from './repositories/llm-usage.js';
import { createManifestRepository, type ManifestRepository } from './repositories/manifests.js';
import { createSessionRepository, type SessionRepository } from './repositories/policy-sessions.js';
import {
  createPolicyVersionRepository,
  type PolicyVersionRepository,
} from './repositories/policy-versions.js';
import { createSecretRepository, type SecretRepository } from './repositories/secrets.js';
import { createSigningKeyRepository, type SigningKeyRepository } from './repositories/signing-keys.js';
import { createTeamRepository, type TeamRepository } from './repositories/teams.js';
import { createToolPinRepository, type ToolPinRepository } from './repositories/tool-pins.js';
import {
  createUsedAssertionRepository,
  type UsedAssertionRepository,
} from './repositories/used-assertions.js';
import { createUserRepository, type UserRepository } from './repositories/users.js';
import type { SqlDatabase, SqlDialect, SqlExecutor } from './sql.js';

/** Every repository, bound to one executor: the pool, or one transaction. */
export interface Repositories {
  teams: TeamRepository;
  users: UserRepository;
  agents: AgentRepository;
  manifests: ManifestRepository;
  agentKeys: AgentKeyRepository;
  usedAssertions: UsedAssertionRepository;
  signingKeys: SigningKeyRepository;
  adminTokens: AdminTokenRepository;
  audit: AuditRepository;
  policyVersions: PolicyVersionRepository;
  sessions: SessionRepository;
  secrets: SecretRepository;
  capabilityRedemptions: CapabilityRedemptionRepository;
  delegations: DelegationRepository;
  llmUsage: LlmUsageRepository;
  toolPins: ToolPinRepository;
  discovery: DiscoveryRepository;
  approvals: ApprovalRepository;
}

/** Repositories in a transaction that holds the audit-chain lock, able to append to the chain atomically. */
export interface AuditedRepositories extends Repositories {
  /** Chains events onto the current head inside this transaction: they commit, or vanish, with the change. */
  appendAudit(events: readonly AuditEvent[]): Promise<ChainedAuditEntry[]>;
}

/** The storage port the domain talks to. Both adapters (SQLite, PostgreSQL) implement it identically. */
export interface Store extends Repositories {
  readonly kind: SqlDialect;
  /** Runs `fn` atomically; it sees repositories bound to the transaction. */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  /**
   * Like `transaction`, serialised with every other writer of the audit chain (other processes and replicas
   * included), so a change and its audit entries commit together.
   */
  transactionWithAudit<T>(fn: (tx: AuditedRepositories) => Promise<T>): Promise<T>;
  /**
   * Appends events to the audit chain in one transaction, serialised with every other writer (other processes
   * and replicas included), and returns them as placed. Resolves only once they are durable.
   */
  appendAudit(events: readonly AuditEvent[]): Promise<ChainedAuditEntry[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createRepositories(db: SqlExecutor): Repositories {
  return {
    teams: createTeamRepository(db),
    users: createUserRepository(db),
    agents: createAgentRepository(db),
    manifests: createManifestRepository(db),
    agentKeys: createAgentKeyRepository(db),
    usedAssertions: createUsedAssertionRepository(db),
    signingKeys: createSigningKeyRepository(db),
    adminTokens: createAdminTokenRepository(db),
    audit: createAuditRepository(db),
    policyVersions: createPolicyVersionRepository(db),
    sessions: createSessionRepository(db),
    secrets: createSecretRepository(db),
    capabilityRedemptions: createCapabilityRedemptionRepository(db),
    delegations: createDelegationRepository(db),
    llmUsage: createLlmUsageRepository(db),
    toolPins: createToolPinRepository(db),
    discovery: createDiscoveryRepository(db),
    approvals: createApprovalRepository(db),
  };
}

/** Wraps a migrated SQL database as a Store. */
export function createStore(db: SqlDatabase): Store {
  const transactionWithAudit = <T>(fn: (tx: AuditedRepositories) => Promise<T>) =>
    db.transaction(
      (tx) => {
        const repositories = createRepositories(tx);
        return fn({
          ...repositories,
          async appendAudit(events) {
            const entries = chainAuditEvents(await repositories.audit.head(), events);
            await repositories.audit.insertEntries(entries);
            return entries;
          },
        });
      },
      { lockAuditChain: true },
    );
  return {
    kind: db.dialect,
    ...createRepositories(db),
    transaction: (fn) => db.transaction((tx) => fn(createRepositories(tx))),
    transactionWithAudit,
    appendAudit: (events) => transactionWithAudit((tx) => tx.appendAudit(events)),
    ping: () => db.ping(),
    close: () => db.close(),
  };
}
