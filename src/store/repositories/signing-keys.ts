import type { SigningKey } from '../../identity/types.js';
import type { SqlExecutor } from '../sql.js';
import { readJson, writeJson } from './json-column.js';

export interface SigningKeyRepository {
  insert(key: SigningKey): Promise<void>;
  find(kid: string): Promise<SigningKey | undefined>;
  findActive(): Promise<SigningKey | undefined>;
  list(): Promise<SigningKey[]>;
  /** Marks the active key retired; returns false if `kid` was not the active key. */
  retire(kid: string, at: number, verifyUntil: number): Promise<boolean>;
}

interface SigningKeyRow {
  kid: string;
  alg: 'EdDSA';
  public_jwk: unknown;
  private_jwk_encrypted: string;
  status: SigningKey['status'];
  created_at: number;
  retired_at: number | null;
  verify_until: number | null;
}

const signingKeyFromRow = (row: SigningKeyRow): SigningKey => ({
  kid: row.kid,
  alg: row.alg,
  publicJwk: readJson<Record<string, unknown>>(row.public_jwk),
  privateJwkEncrypted: row.private_jwk_encrypted,
  status: row.status,
  createdAt: row.created_at,
  retiredAt: row.retired_at,
  verifyUntil: row.verify_until,
});

export function createSigningKeyRepository(db: SqlExecutor): SigningKeyRepository {
  return {
    async insert(key) {
      await db.run(
        `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_encrypted, status, created_at, retired_at, verify_until)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          key.kid,
          key.alg,
          writeJson(key.publicJwk),
          key.privateJwkEncrypted,
          key.status,
          key.createdAt,
          key.retiredAt,
          key.verifyUntil,
        ],
      );
    },
    async find(kid) {
      const row = await db.get<SigningKeyRow>('SELECT * FROM signing_keys WHERE kid = ?', [kid]);
      return row && signingKeyFromRow(row);
    },
    async findActive() {
      const row = await db.get<SigningKeyRow>("SELECT * FROM signing_keys WHERE status = 'active'");
      return row && signingKeyFromRow(row);
    },
    async list() {
      return (await db.all<SigningKeyRow>('SELECT * FROM signing_keys ORDER BY created_at, kid')).map(
        signingKeyFromRow,
      );
    },
    async retire(kid, at, verifyUntil) {
      const result = await db.run(
        "UPDATE signing_keys SET status = 'retired', retired_at = ?, verify_until = ? WHERE kid = ? AND status = 'active'",
        [at, verifyUntil, kid],
      );
      return result.changes > 0;
    },
  };
}
