import type { AdminToken } from '../../identity/types.js';
import type { SqlExecutor } from '../sql.js';

export interface AdminTokenRepository {
  insert(token: AdminToken): Promise<void>;
  findById(id: string): Promise<AdminToken | undefined>;
  findByHash(tokenHash: string): Promise<AdminToken | undefined>;
  list(): Promise<AdminToken[]>;
  revoke(id: string, at: number): Promise<boolean>;
  touch(id: string, at: number): Promise<void>;
}

interface AdminTokenRow {
  id: string;
  name: string;
  role: AdminToken['role'];
  user_id: string | null;
  token_hash: string;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
  last_used_at: number | null;
}

const adminTokenFromRow = (row: AdminTokenRow): AdminToken => ({
  id: row.id,
  name: row.name,
  role: row.role,
  userId: row.user_id,
  tokenHash: row.token_hash,
  createdAt: row.created_at,
  createdBy: row.created_by,
  revokedAt: row.revoked_at,
  lastUsedAt: row.last_used_at,
});

export function createAdminTokenRepository(db: SqlExecutor): AdminTokenRepository {
  return {
    async insert(token) {
      await db.run(
        `INSERT INTO admin_tokens (id, name, role, user_id, token_hash, created_at, created_by, revoked_at, last_used_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          token.id,
          token.name,
          token.role,
          token.userId,
          token.tokenHash,
          token.createdAt,
          token.createdBy,
          token.revokedAt,
          token.lastUsedAt,
        ],
      );
    },
    async findById(id) {
      const row = await db.get<AdminTokenRow>('SELECT * FROM admin_tokens WHERE id = ?', [id]);
      return row && adminTokenFromRow(row);
    },
    async findByHash(tokenHash) {
      const row = await db.get<AdminTokenRow>('SELECT * FROM admin_tokens WHERE token_hash = ?', [tokenHash]);
      return row && adminTokenFromRow(row);
    },
    async list() {
      return (await db.all<AdminTokenRow>('SELECT * FROM admin_tokens ORDER BY created_at, id')).map(
        adminTokenFromRow,
      );
    },
    async revoke(id, at) {
      const result = await db.run(
        'UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
        [at, id],
      );
      return result.changes > 0;
    },
    async touch(id, at) {
      await db.run('UPDATE admin_tokens SET last_used_at = ? WHERE id = ?', [at, id]);
    },
  };
}
