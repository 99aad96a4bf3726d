import { auditedTransaction } from '../audit/audited-transaction.js';
import { GatehouseError, isGatehouseError } from '../errors/index.js';
import { decryptSecret, encryptSecret } from '../identity/master-key.js';
import type { Clock } from '../lib/clock.js';
import type { Store, StoredSecret } from '../store/index.js';
import {
  checkSecretDescription,
  checkSecretName,
  checkSecretValue,
  checkUpstreamName,
  SECRET_NAME_PATTERN,
} from './secret-input.js';
import type { SecretInfo, SetSecretInput, Vault } from './types.js';

export interface VaultDeps {
  store: Store;
  clock: Clock;
  /** The 32-byte master key (see `resolveMasterKey`): seals every value with AES-256-GCM. */
  masterKey: Uint8Array;
}

/**
 * The associated data a value is sealed with: its row's name, version and binding. A sealed value copied onto
 * another secret, replayed onto an older version, or rebound to another upstream in the database no longer
 * decrypts.
 */
export function secretSealingContext(secret: Pick<StoredSecret, 'name' | 'version' | 'upstream'>): string {
  return `gatehouse.vault.v1:${JSON.stringify([secret.name, secret.version, secret.upstream])}`;
}

/** The vault over the store's `secrets` table: values sealed under the master key, changes audited. */
export function createVault(deps: VaultDeps): Vault {
  const { store, clock, masterKey } = deps;

  const write = async (input: SetSecretInput, actor: string, mustExist: boolean): Promise<SecretInfo> => {
    const name = checkSecretName(input.name);
    checkSecretValue(name, input.value);
    const upstream = input.upstream === undefined ? undefined : checkUpstreamName(input.upstream);
    const description =
      input.description === undefined ? undefined : checkSecretDescription(input.description);
    // The audit-chain lock serialises this read-then-write with every other audited writer, replicas included.
    return auditedTransaction({ store, clock }, actor, async (tx, emit) => {
      const existing = await tx.secrets.find(name);
      if (!existing && mustExist) throw notFound(name);
      const now = clock.now();
      const row = {
        name,
        version: existing ? existing.version + 1 : 1,
        upstream: upstream === undefined ? (existing?.upstream ?? null) : upstream,
      };
      const stored: StoredSecret = {
        ...row,
        description: description === undefined ? (existing?.description ?? null) : description,
        sealedValue: encryptSecret(masterKey, input.value, secretSealingContext(row)),
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
        updatedBy: actor,
      };
      await tx.secrets.upsert(stored);
      emit({
        action: existing ? 'secret.rotated' : 'secret.created',
        target: `secret:${name}`,
        details: { name, upstream: stored.upstream, version: stored.version },
      });
      return secretInfo(stored);
    });
  };

  const find = async (name: string): Promise<StoredSecret> => {
    const stored = SECRET_NAME_PATTERN.test(name) ? await store.secrets.find(name) : undefined;
    if (!stored) throw notFound(name);
    return stored;
  };

  return {
    set: (input, actor) => write(input, actor, false),
    rotate: (input, actor) => write(input, actor, true),
    async list() {
      return (await store.secrets.list()).map(secretInfo);
    },
    async info(name) {
      return secretInfo(await find(name));
    },
    async reveal(name, options = {}) {
      const stored = await find(name);
      if (
        options.upstream !== undefined &&
        stored.upstream !== null &&
        stored.upstream !== options.upstream
      ) {
        throw new GatehouseError(
          'secret_upstream_mismatch',
          `secret \`${name}\` is bound to upstream \`${stored.upstream}\`, not \`${options.upstream}\``,
          { details: { secret: name, boundTo: stored.upstream, upstream: options.upstream } },
        );
      }
      try {
        return decryptSecret(masterKey, stored.sealedValue, secretSealingContext(stored));
      } catch (cause) {
        if (!isGatehouseError(cause) || cause.code !== 'master_key_mismatch') throw cause;
        throw new GatehouseError(
          'master_key_mismatch',
          `secret \`${name}\` does not decrypt with the configured master key (a different ` +
            'GATEHOUSE_MASTER_KEY, or the stored row was altered); set it again to replace it',
          { cause },
        );
      }
    },
    async delete(name, actor) {
      checkSecretName(name);
      return auditedTransaction({ store, clock }, actor, async (tx, emit) => {
        const existing = await tx.secrets.find(name);
        if (!existing || !(await tx.secrets.delete(name))) throw notFound(name);
        emit({
          action: 'secret.deleted',
          target: `secret:${name}`,
          details: { name, upstream: existing.upstream, version: existing.version },
        });
        return secretInfo(existing);
      });
    },
  };
}

function notFound(name: string): GatehouseError {
  return new GatehouseError('secret_not_found', `no secret \`${name}\` in the vault`, {
    details: { secret: name },
  });
}

function secretInfo(stored: StoredSecret): SecretInfo {
  return {
    name: stored.name,
    upstream: stored.upstream,
    description: stored.description,
    version: stored.version,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
    updatedBy: stored.updatedBy,
  };
}
