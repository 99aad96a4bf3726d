import type { Agent, AgentFilter, AgentPatch } from '../../registry/types.js';
import type { SqlExecutor, SqlValue } from '../sql.js';
import { readFlag, readJson, writeJson } from './json-column.js';

export interface AgentRepository {
  insert(agent: Agent): Promise<void>;
  findById(id: string): Promise<Agent | undefined>;
  findByName(name: string): Promise<Agent | undefined>;
  list(filter?: AgentFilter): Promise<Agent[]>;
  /** Applies a patch; returns the agent as stored afterwards, or undefined if there is no such agent. */
  update(id: string, patch: AgentPatch): Promise<Agent | undefined>;
}

interface AgentRow {
  id: string;
  name: string;
  description: string | null;
  team_id: string;
  sponsor_id: string;
  labels: unknown;
  review_status: Agent['reviewStatus'];
  reviewed_version: number | null;
  reviewed_by: string | null;
  reviewed_at: number | null;
  review_note: string | null;
  state: Agent['state'];
  state_reason: string | null;
  needs_sponsor: number;
  orphaned_at: number | null;
  manifest_version: number | null;
  created_at: number;
  updated_at: number;
}

const agentFromRow = (row: AgentRow): Agent => ({
  id: row.id,
  name: row.name,
  description: row.description,
  teamId: row.team_id,
  sponsorId: row.sponsor_id,
  labels: readJson<Record<string, string>>(row.labels),
  reviewStatus: row.review_status,
  reviewedVersion: row.reviewed_version,
  reviewedBy: row.reviewed_by,
  reviewedAt: row.reviewed_at,
  reviewNote: row.review_note,
  state: row.state,
  stateReason: row.state_reason,
  needsSponsor: readFlag(row.needs_sponsor),
  orphanedAt: row.orphaned_at,
  manifestVersion: row.manifest_version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** Column and encoding for each patchable field: the only names that ever reach the SQL text. */
const PATCH_COLUMNS: { [K in keyof Required<AgentPatch>]: [string, (value: AgentPatch[K]) => SqlValue] } = {
  description: ['description', (v) => v ?? null],
  teamId: ['team_id', (v) => v ?? null],
  sponsorId: ['sponsor_id', (v) => v ?? null],
  labels: ['labels', (v) => writeJson(v ?? {})],
  reviewStatus: ['review_status', (v) => v ?? null],
  reviewedVersion: ['reviewed_version', (v) => v ?? null],
  reviewedBy: ['reviewed_by', (v) => v ?? null],
  reviewedAt: ['reviewed_at', (v) => v ?? null],
  reviewNote: ['review_note', (v) => v ?? null],
  state: ['state', (v) => v ?? null],
  stateReason: ['state_reason', (v) => v ?? null],
  needsSponsor: ['needs_sponsor', (v) => (v ? 1 : 0)],
  orphanedAt: ['orphaned_at', (v) => v ?? null],
  manifestVersion: ['manifest_version', (v) => v ?? null],
  updatedAt: ['updated_at', (v) => v ?? null],
};

export function createAgentRepository(db: SqlExecutor): AgentRepository {
  const findById = async (id: string) => {
    const row = await db.get<AgentRow>('SELECT * FROM agents WHERE id = ?', [id]);
    return row && agentFromRow(row);
  };
  return {
    async insert(agent) {
      await db.run(
        `INSERT INTO agents (id, name, description, team_id, sponsor_id, labels, review_status, reviewed_version,
           reviewed_by, reviewed_at, review_note, state, state_reason, needs_sponsor, orphaned_at, manifest_version,
           created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          agent.id,
          agent.name,
          agent.description,
          agent.teamId,
          agent.sponsorId,
          writeJson(agent.labels),
          agent.reviewStatus,
          agent.reviewedVersion,
          agent.reviewedBy,
          agent.reviewedAt,
          agent.reviewNote,
          agent.state,
          agent.stateReason,
          agent.needsSponsor ? 1 : 0,
          agent.orphanedAt,
          agent.manifestVersion,
          agent.createdAt,
          agent.updatedAt,
        ],
      );
    },
    findById,
    async findByName(name) {
      const row = await db.get<AgentRow>('SELECT * FROM agents WHERE name = ?', [name]);
      return row && agentFromRow(row);
    },
    async list(filter = {}) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (filter.teamId !== undefined) {
        where.push('team_id = ?');
        params.push(filter.teamId);
      }
      if (filter.sponsorId !== undefined) {
        where.push('sponsor_id = ?');
        params.push(filter.sponsorId);
      }
      if (filter.state !== undefined) {
        where.push('state = ?');
        params.push(filter.state);
      }
      if (filter.reviewStatus !== undefined) {
        where.push('review_status = ?');
        params.push(filter.reviewStatus);
      }
      if (filter.needsSponsor !== undefined) {
        where.push('needs_sponsor = ?');
        params.push(filter.needsSponsor ? 1 : 0);
      }
      if (filter.orphaned !== undefined)
        where.push(filter.orphaned ? 'orphaned_at IS NOT NULL' : 'orphaned_at IS NULL');
      if (filter.orphanedBefore !== undefined) {
        where.push('orphaned_at <= ?');
        params.push(filter.orphanedBefore);
      }
      const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
      return (await db.all<AgentRow>(`SELECT * FROM agents ${clause} ORDER BY name`, params)).map(
        agentFromRow,
      );
    },
    async update(id, patch) {
      const sets: string[] = [];
      const params: SqlValue[] = [];
      for (const key of Object.keys(patch) as (keyof AgentPatch)[]) {
        const [column, encode] = PATCH_COLUMNS[key] as [string, (value: unknown) => SqlValue];
        sets.push(`${column} = ?`);
        params.push(encode(patch[key]));
      }
      if (sets.length > 0) await db.run(`UPDATE agents SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
      return findById(id);
    },
  };
}
