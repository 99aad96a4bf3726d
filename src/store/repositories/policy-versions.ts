import type { SqlExecutor } from '../sql.js';
import { readJson, writeJson } from './json-column.js';

/** One published policy bundle: its files exactly as written, so any version can be recompiled and diffed. */
export interface PolicyVersion {
  version: number;
  digest: string;
  sources: Array<{ name: string; text: string }>;
  message: string | null;
  createdAt: number;
  createdBy: string;
}

export type PolicyPointerName = 'active' | 'shadow';

export interface PolicyPointer {
  name: PolicyPointerName;
  version: number;
  updatedAt: number;
  updatedBy: string;
}

export interface PolicyVersionRepository {
  /** Stores the bundle as the next version number; the primary key makes concurrent publishers take turns. */
  insertNext(version: Omit<PolicyVersion, 'version'>): Promise<PolicyVersion>;
  find(version: number): Promise<PolicyVersion | undefined>;
  findByDigest(digest: string): Promise<PolicyVersion | undefined>;
  /** Newest first, without sources. */
  list(limit: number): Promise<Array<Omit<PolicyVersion, 'sources'>>>;
  pointers(): Promise<PolicyPointer[]>;
  setPointer(pointer: PolicyPointer): Promise<void>;
  clearPointer(name: PolicyPointerName): Promise<boolean>;
}

interface VersionRow {
  version: number;
  digest: string;
  sources?: unknown;
  message: string | null;
  created_at: number;
  created_by: string;
}

const versionFromRow = (row: VersionRow) => ({
  version: Number(row.version),
  digest: row.digest,
  message: row.message,
  createdAt: row.created_at,
  createdBy: row.created_by,
});

export function createPolicyVersionRepository(db: SqlExecutor): PolicyVersionRepository {
  return {
    async insertNext(input) {
      const head = await db.get<{ version: number | null }>(
        'SELECT MAX(version) AS version FROM policy_versions',
      );
      const version = Number(head?.version ?? 0) + 1;
      await db.run(
        'INSERT INTO policy_versions (version, digest, sources, message, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)',
        [version, input.digest, writeJson(input.sources), input.message, input.createdAt, input.createdBy],
      );
      return { version, ...input };
    },
    async find(version) {
      const row = await db.get<VersionRow>('SELECT * FROM policy_versions WHERE version = ?', [version]);
      return row && { ...versionFromRow(row), sources: readJson(row.sources) };
    },
    async findByDigest(digest) {
      const row = await db.get<VersionRow>(
        'SELECT * FROM policy_versions WHERE digest = ? ORDER BY version DESC LIMIT 1',
        [digest],
      );
      return row && { ...versionFromRow(row), sources: readJson(row.sources) };
    },
    async list(limit) {
      const rows = await db.all<VersionRow>(
        'SELECT version, digest, message, created_at, created_by FROM policy_versions ORDER BY version DESC LIMIT ?',
        [limit],
      );
      return rows.map(versionFromRow);
    },
    async pointers() {
      const rows = await db.all<{
        name: PolicyPointerName;
        version: number;
        updated_at: number;
        updated_by: string;
      }>('SELECT * FROM policy_pointers ORDER BY name');
      return rows.map((row) => ({
        name: row.name,
        version: Number(row.version),
        updatedAt: row.updated_at,
        updatedBy: row.updated_by,
      }));
    },
    async setPointer(pointer) {
      await db.run(
        `INSERT INTO policy_pointers (name, version, updated_at, updated_by) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at,
           updated_by = excluded.updated_by`,
        [pointer.name, pointer.version, pointer.updatedAt, pointer.updatedBy],
      );
    },
    async clearPointer(name) {
      return (await db.run('DELETE FROM policy_pointers WHERE name = ?', [name])).changes > 0;
    },
  };
}
