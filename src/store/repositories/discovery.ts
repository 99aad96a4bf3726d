import type { SqlExecutor } from '../sql.js';
import { readJson, writeJson } from './json-column.js';

/** One discovery run: who ran it, from where, and its numbers. */
export interface DiscoveryRun {
  id: string;
  startedAt: number;
  finishedAt: number;
  host: string;
  /** `cli`, `schedule` or `api`. */
  source: string;
  actor: string;
  summary: Record<string, unknown>;
}

/** A candidate agent as history keeps it: when it was first and last seen, and how it compared. */
export interface DiscoveryCandidateRecord {
  id: string;
  name: string;
  kind: string;
  host: string;
  /** `unknown | registered | approved` at the last sighting. */
  status: string;
  agentId: string | null;
  /** Percent. */
  confidence: number;
  providers: string[];
  owner: string | null;
  firstSeen: number;
  lastSeen: number;
  firstRun: string;
  lastRun: string;
}

/** One finding as history keeps it (summaries only: findings never hold secrets). */
export interface DiscoveryFindingRecord {
  id: string;
  candidateId: string;
  kind: string;
  source: string;
  summary: string;
  location: string;
  firstSeen: number;
  lastSeen: number;
  lastRun: string;
}

export interface DiscoveryCandidateFilter {
  status?: string;
  seenSince?: number;
  limit?: number;
}

export interface DiscoveryRepository {
  insertRun(run: DiscoveryRun): Promise<void>;
  listRuns(limit: number): Promise<DiscoveryRun[]>;
  findCandidates(ids: readonly string[]): Promise<DiscoveryCandidateRecord[]>;
  /** Inserts new candidates; for known ones refreshes everything but `firstSeen`/`firstRun`. */
  upsertCandidates(records: readonly DiscoveryCandidateRecord[]): Promise<void>;
  listCandidates(filter?: DiscoveryCandidateFilter): Promise<DiscoveryCandidateRecord[]>;
  /** Inserts new findings; for known ones refreshes everything but `firstSeen`. */
  upsertFindings(records: readonly DiscoveryFindingRecord[]): Promise<void>;
  listFindings(candidateId: string): Promise<DiscoveryFindingRecord[]>;
}

interface RunRow {
  id: string;
  started_at: number;
  finished_at: number;
  host: string;
  source: string;
  actor: string;
  summary: unknown;
}

interface CandidateRow {
  id: string;
  name: string;
  kind: string;
  host: string;
  status: string;
  agent_id: string | null;
  confidence: number;
  providers: unknown;
  owner: string | null;
  first_seen: number;
  last_seen: number;
  first_run: string;
  last_run: string;
}

interface FindingRow {
  id: string;
  candidate_id: string;
  kind: string;
  source: string;
  summary: string;
  location: string;
  first_seen: number;
  last_seen: number;
  last_run: string;
}

const runFromRow = (row: RunRow): DiscoveryRun => ({
  id: row.id,
  startedAt: Number(row.started_at),
  finishedAt: Number(row.finished_at),
  host: row.host,
  source: row.source,
  actor: row.actor,
  summary: readJson(row.summary),
});

const candidateFromRow = (row: CandidateRow): DiscoveryCandidateRecord => ({
  id: row.id,
  name: row.name,
  kind: row.kind,
  host: row.host,
  status: row.status,
  agentId: row.agent_id,
  confidence: Number(row.confidence),
  providers: readJson(row.providers),
  owner: row.owner,
  firstSeen: Number(row.first_seen),
  lastSeen: Number(row.last_seen),
  firstRun: row.first_run,
  lastRun: row.last_run,
});

const findingFromRow = (row: FindingRow): DiscoveryFindingRecord => ({
  id: row.id,
  candidateId: row.candidate_id,
  kind: row.kind,
  source: row.source,
  summary: row.summary,
  location: row.location,
  firstSeen: Number(row.first_seen),
  lastSeen: Number(row.last_seen),
  lastRun: row.last_run,
});

const CHUNK = 500;

export function createDiscoveryRepository(db: SqlExecutor): DiscoveryRepository {
  return {
    async insertRun(run) {
      await db.run(
        `INSERT INTO discovery_runs (id, started_at, finished_at, host, source, actor, summary)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [run.id, run.startedAt, run.finishedAt, run.host, run.source, run.actor, writeJson(run.summary)],
      );
    },
    async listRuns(limit) {
      const rows = await db.all<RunRow>(
        'SELECT * FROM discovery_runs ORDER BY finished_at DESC, id LIMIT ?',
        [limit],
      );
      return rows.map(runFromRow);
    },
    async findCandidates(ids) {
      const found: DiscoveryCandidateRecord[] = [];
      for (let start = 0; start < ids.length; start += CHUNK) {
        const chunk = ids.slice(start, start + CHUNK);
        const rows = await db.all<CandidateRow>(
          `SELECT * FROM discovery_candidates WHERE id IN (${chunk.map(() => '?').join(', ')})`,
          chunk,
        );
        found.push(...rows.map(candidateFromRow));
      }
      return found;
    },
    async upsertCandidates(records) {
      if (records.length === 0) return;
      await db.runMany(
        `INSERT INTO discovery_candidates (id, name, kind, host, status, agent_id, confidence, providers, owner,
           first_seen, last_seen, first_run, last_run)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, host = excluded.host,
           status = excluded.status, agent_id = excluded.agent_id, confidence = excluded.confidence,
           providers = excluded.providers, owner = excluded.owner, last_seen = excluded.last_seen,
           last_run = excluded.last_run`,
        records.map((record) => [
          record.id,
          record.name,
          record.kind,
          record.host,
          record.status,
          record.agentId,
          record.confidence,
          writeJson(record.providers),
          record.owner,
          record.firstSeen,
          record.lastSeen,
          record.firstRun,
          record.lastRun,
        ]),
      );
    },
    async listCandidates(filter = {}) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (filter.status) {
        where.push('status = ?');
        params.push(filter.status);
      }
      if (filter.seenSince !== undefined) {
        where.push('last_seen >= ?');
        params.push(filter.seenSince);
      }
      params.push(filter.limit ?? 1000);
      const rows = await db.all<CandidateRow>(
        `SELECT * FROM discovery_candidates ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY last_seen DESC, id LIMIT ?`,
        params,
      );
      return rows.map(candidateFromRow);
    },
    async upsertFindings(records) {
      if (records.length === 0) return;
      await db.runMany(
        `INSERT INTO discovery_findings (id, candidate_id, kind, source, summary, location, first_seen, last_seen,
           last_run)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET candidate_id = excluded.candidate_id, kind = excluded.kind,
           source = excluded.source, summary = excluded.summary, location = excluded.location,
           last_seen = excluded.last_seen, last_run = excluded.last_run`,
        records.map((record) => [
          record.id,
          record.candidateId,
          record.kind,
          record.source,
          record.summary,
          record.location,
          record.firstSeen,
          record.lastSeen,
          record.lastRun,
        ]),
      );
    },
    async listFindings(candidateId) {
      const rows = await db.all<FindingRow>(
        'SELECT * FROM discovery_findings WHERE candidate_id = ? ORDER BY first_seen, id',
        [candidateId],
      );
      return rows.map(findingFromRow);
    },
  };
}
