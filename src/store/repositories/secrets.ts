import type { SqlExecutor } from '../sql.js';

/** A vault secret as stored: the value only ever sealed (AES-256-GCM under the master key). */
export interface StoredSecret {
  name: string;
  /** The upstream the secret is bound to; null for a secret any upstream configuration may reference. */
  upstream: string | null;
  description: string | null;
  sealedValue: string;
  version: number;
  createdAt: number;
  updatedAt: number;
  updatedBy: string;
}

export interface SecretRepository {
  /** Inserts version 1, or replaces the value and bumps the version. */
  upsert(secret: StoredSecret): Promise<void>;
  find(name: string): Promise<StoredSecret | undefined>;
  list(): Promise<StoredSecret[]>;
  delete(name: string): Promise<boolean>;
}

interface SecretRow {
  name: string;
  upstream: string | null;
  description: string | null;
  sealed_value: string;
  version: number;
  created_at: number;
  updated_at: number;
  updated_by: string;
}

const secretFromRow = (row: SecretRow): StoredSecret => ({
  name: row.name,
  upstream: row.upstream,
  description: row.description,
  sealedValue: row.sealed_value,
  version: Number(row.version),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  updatedBy: row.updated_by,
});

export function createSecretRepository(db: SqlExecutor): SecretRepository {
  return {
    async upsert(secret) {
      await db.run(
        `INSERT INTO secrets (name, upstream, description, sealed_value, version, created_at, updated_at, updated_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET upstream = excluded.upstream, description = excluded.description,
           sealed_value = excluded.sealed_value, version = excluded.version, updated_at = excluded.updated_at,
           updated_by = excluded.updated_by`,
        [
          secret.name,
          secret.upstream,
          secret.description,
          secret.sealedValue,
          secret.version,
          secret.createdAt,
          secret.updatedAt,
          secret.updatedBy,
        ],
      );
    },
    async find(name) {
      const row = await db.get<SecretRow>('SELECT * FROM secrets WHERE name = ?', [name]);
      return row && secretFromRow(row);
    },
    async list() {
      return (await db.all<SecretRow>('SELECT * FROM secrets ORDER BY name')).map(secretFromRow);
    },
    async delete(name) {
      return (await db.run('DELETE FROM secrets WHERE name = ?', [name])).changes > 0;
    },
  };
}
