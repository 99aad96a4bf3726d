import type { Manifest, ManifestVersion } from '../../registry/types.js';
import type { SqlExecutor } from '../sql.js';
import { readJson, writeJson } from './json-column.js';

export interface ManifestRepository {
  insert(version: ManifestVersion): Promise<void>;
  get(agentId: string, version: number): Promise<ManifestVersion | undefined>;
  latest(agentId: string): Promise<ManifestVersion | undefined>;
  list(agentId: string): Promise<ManifestVersion[]>;
}

interface ManifestRow {
  agent_id: string;
  version: number;
  manifest: unknown;
  digest: string;
  created_at: number;
  created_by: string;
}

const manifestFromRow = (row: ManifestRow): ManifestVersion => ({
  agentId: row.agent_id,
  version: row.version,
  manifest: readJson<Manifest>(row.manifest),
  digest: row.digest,
  createdAt: row.created_at,
  createdBy: row.created_by,
});

export function createManifestRepository(db: SqlExecutor): ManifestRepository {
  return {
    async insert(version) {
      await db.run(
        'INSERT INTO agent_manifests (agent_id, version, manifest, digest, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)',
        [
          version.agentId,
          version.version,
          writeJson(version.manifest),
          version.digest,
          version.createdAt,
          version.createdBy,
        ],
      );
    },
    async get(agentId, version) {
      const row = await db.get<ManifestRow>(
        'SELECT * FROM agent_manifests WHERE agent_id = ? AND version = ?',
        [agentId, version],
      );
      return row && manifestFromRow(row);
    },
    async latest(agentId) {
      const row = await db.get<ManifestRow>(
        'SELECT * FROM agent_manifests WHERE agent_id = ? ORDER BY version DESC LIMIT 1',
        [agentId],
      );
      return row && manifestFromRow(row);
    },
    async list(agentId) {
      const rows = await db.all<ManifestRow>(
        'SELECT * FROM agent_manifests WHERE agent_id = ? ORDER BY version',
        [agentId],
      );
      return rows.map(manifestFromRow);
    },
  };
}
