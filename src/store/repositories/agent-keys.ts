import type { AgentKey } from '../../registry/types.js';
import type { SqlExecutor } from '../sql.js';
import { readJson, writeJson } from './json-column.js';

export interface AgentKeyRepository {
  insert(key: AgentKey): Promise<void>;
  find(kid: string): Promise<AgentKey | undefined>;
  listByAgent(agentId: string, options?: { includeRevoked?: boolean }): Promise<AgentKey[]>;
  revoke(kid: string, at: number): Promise<boolean>;
}

interface AgentKeyRow {
  kid: string;
  agent_id: string;
  alg: AgentKey['alg'];
  public_jwk: unknown;
  created_at: number;
  revoked_at: number | null;
}

const agentKeyFromRow = (row: AgentKeyRow): AgentKey => ({
  kid: row.kid,
  agentId: row.agent_id,
  alg: row.alg,
  publicJwk: readJson<Record<string, unknown>>(row.public_jwk),
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

export function createAgentKeyRepository(db: SqlExecutor): AgentKeyRepository {
  return {
    async insert(key) {
      await db.run(
        'INSERT INTO agent_keys (kid, agent_id, alg, public_jwk, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)',
        [key.kid, key.agentId, key.alg, writeJson(key.publicJwk), key.createdAt, key.revokedAt],
      );
    },
    async find(kid) {
      const row = await db.get<AgentKeyRow>('SELECT * FROM agent_keys WHERE kid = ?', [kid]);
      return row && agentKeyFromRow(row);
    },
    async listByAgent(agentId, options = {}) {
      const sql = options.includeRevoked
        ? 'SELECT * FROM agent_keys WHERE agent_id = ? ORDER BY created_at, kid'
        : 'SELECT * FROM agent_keys WHERE agent_id = ? AND revoked_at IS NULL ORDER BY created_at, kid';
      return (await db.all<AgentKeyRow>(sql, [agentId])).map(agentKeyFromRow);
    },
    async revoke(kid, at) {
      const result = await db.run(
        'UPDATE agent_keys SET revoked_at = ? WHERE kid = ? AND revoked_at IS NULL',
        [at, kid],
      );
      return result.changes > 0;
    },
  };
}
