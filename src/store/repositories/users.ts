import type { User } from '../../registry/types.js';
import type { SqlExecutor } from '../sql.js';
import { readFlag } from './json-column.js';

export interface UserRepository {
  insert(user: User): Promise<void>;
  findById(id: string): Promise<User | undefined>;
  findByEmail(email: string): Promise<User | undefined>;
  list(filter?: { active?: boolean }): Promise<User[]>;
  setActive(id: string, active: boolean, at: number): Promise<void>;
}

export interface UserRow {
  id: string;
  email: string;
  display_name: string | null;
  active: number;
  created_at: number;
  updated_at: number;
  deactivated_at: number | null;
}

export const userFromRow = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  active: readFlag(row.active),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  deactivatedAt: row.deactivated_at,
});

export function createUserRepository(db: SqlExecutor): UserRepository {
  return {
    async insert(user) {
      await db.run(
        'INSERT INTO users (id, email, display_name, active, created_at, updated_at, deactivated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [
          user.id,
          user.email,
          user.displayName,
          user.active ? 1 : 0,
          user.createdAt,
          user.updatedAt,
          user.deactivatedAt,
        ],
      );
    },
    async findById(id) {
      const row = await db.get<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
      return row && userFromRow(row);
    },
    async findByEmail(email) {
      const row = await db.get<UserRow>('SELECT * FROM users WHERE email = ?', [email]);
      return row && userFromRow(row);
    },
    async list(filter = {}) {
      const rows =
        filter.active === undefined
          ? await db.all<UserRow>('SELECT * FROM users ORDER BY email')
          : await db.all<UserRow>('SELECT * FROM users WHERE active = ? ORDER BY email', [
              filter.active ? 1 : 0,
            ]);
      return rows.map(userFromRow);
    },
    async setActive(id, active, at) {
      await db.run('UPDATE users SET active = ?, updated_at = ?, deactivated_at = ? WHERE id = ?', [
        active ? 1 : 0,
        at,
        active ? null : at,
        id,
      ]);
    },
  };
}
