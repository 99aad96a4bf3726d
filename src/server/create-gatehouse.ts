import { type ApprovalService, createApprovalService } from '../approvals/index.js';
import { createAuditLog } from '../audit/audit-log.js';
import type { AuditLog } from '../audit/index.js';
import type { GatehouseConfig } from '../config/index.js';
import { resolveMasterKey } from '../identity/master-key.js';
import { createSigningKeyring, type SigningKeyring } from '../identity/signing-keyring.js';
import { type Clock, systemClock } from '../lib/clock.js';
import {
  createPolicyRuntime,
  createSessionService,
  type PolicyRuntime,
  type SessionService,
} from '../policy-runtime/index.js';
import type { RegistryDeps } from '../registry/index.js';
import { openStore, type Store } from '../store/index.js';
import { createVault, type Vault } from '../vault/index.js';

const KEYRING_CACHE_MS = 10_000;

/** One running Gatehouse: configuration, store, audit log, keys and clock, shared by the server and the CLI. */
export interface Gatehouse extends RegistryDeps {
  config: GatehouseConfig;
  clock: Clock;
  store: Store;
  audit: AuditLog;
  keyring: SigningKeyring;
  /** The policy bundles this process decides with (active and shadow), backed by the store. */
  policies: PolicyRuntime;
  /** Sessions: history-aware decisions persisted per task. */
  sessions: SessionService;
  /** Upstream credentials, sealed under the master key; revealed only for injection. */
  vault: Vault;
  /** Human approval of calls the policy sends to people (docs/approvals.md). */
  approvals: ApprovalService;
  /** The issuer URL: tokens' `iss`, and the base of the token endpoint agents must name as `aud`. */
  issuer: string;
  tokenEndpoint: string;
  /** Warnings about unsafe choices found at start-up, for the operator. */
  warnings: string[];
  close(): Promise<void>;
}

export interface CreateGatehouseOptions {
  clock?: Clock;
  /** Who starts it, for the audit of key generation: `system` for the server, the CLI operator otherwise. */
  actor?: string;
  /** Where operational warnings go (a refused audit checkpoint, for one). */
  log?: (line: string) => void;
}

/** Opens the store, the audit log and the signing keys; generates the first signing key if there is none. */
export async function createGatehouse(
  config: GatehouseConfig,
  options: CreateGatehouseOptions = {},
): Promise<Gatehouse> {
  const clock = options.clock ?? systemClock;
  const actor = options.actor ?? 'system';
  const warnings: string[] = [];
  const store = await openStore(config.store, config.dataDir);
  try {
    const masterKey = resolveMasterKey({ configured: config.masterKey, dataDir: config.dataDir });
    if (masterKey.source !== 'config') {
      warnings.push(
        `the master key that encrypts signing keys is kept beside the data in ${config.dataDir}/master.key; ` +
          'set GATEHOUSE_MASTER_KEY (32 bytes, base64) from a secret manager in production',
      );
    }
    const issuer = (
      config.server.publicUrl ?? `http://${hostForUrl(config.server.host)}:${config.server.port}`
    ).replace(/\/+$/, '');
    let keyring: SigningKeyring | undefined;
    const audit = createAuditLog({
      store,
      clock,
      signer: {
        sign: (payload) => {
          if (!keyring) throw new Error('signing keyring not ready');
          return keyring.checkpointSigner.sign(payload);
        },
      },
      checkpointEvery: config.audit.checkpointEvery,
      checkpointIntervalMs: config.audit.checkpointInterval,
      maxBatch: config.audit.maxBatch,
      onCheckpointError: (error) =>
        (options.log ?? ((line: string) => process.stderr.write(`${line}\n`)))(
          `warning: audit checkpoint not signed: ${error instanceof Error ? error.message : String(error)}`,
        ),
    });
    keyring = createSigningKeyring({
      store,
      masterKey: masterKey.key,
      clock,
      audit,
      // Another replica may sign with a just-retired key until its keyring cache refreshes (10 s).
      retiredKeyVerifyMs: config.tokens.accessTokenTtl + config.tokens.clockSkew + KEYRING_CACHE_MS,
      cacheTtlMs: KEYRING_CACHE_MS,
    });
    await keyring.ensureActiveKey(actor);
    const policies = await createPolicyRuntime({ store, clock });
    const vault = createVault({ store, clock, masterKey: masterKey.key });
    const approvals = createApprovalService({
      store,
      clock,
      vault,
      config: config.approvals,
      ...(options.log ? { log: options.log } : {}),
    });
    return {
      config,
      clock,
      store,
      audit,
      keyring,
      policies,
      sessions: createSessionService({ store, clock, policies }),
      vault,
      approvals,
      issuer,
      tokenEndpoint: `${issuer}/oauth/token`,
      warnings,
      async close() {
        try {
          await approvals.close();
          await audit.close();
        } finally {
          await store.close();
        }
      },
    };
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
