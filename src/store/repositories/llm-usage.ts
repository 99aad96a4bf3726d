import type { SqlExecutor, SqlValue } from '../sql.js';

/** One request through the LLM gateway, as metered: what it cost in tokens and how it ended. */
export interface LlmUsageRecord {
  id: string;
  /** When the request arrived, epoch ms. */
  at: number;
  agentId: string;
  teamId: string;
  sessionId: string | null;
  provider: string;
  operation: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** `ok`, a provider status (`http_429`), or a Gatehouse code such as `provider_stream_interrupted`. */
  outcome: string;
  durationMs: number;
}

export type LlmUsageGrouping = 'model' | 'agent' | 'team' | 'provider';

export interface LlmUsageFilter {
  since: number;
  until?: number;
  agentId?: string;
  teamId?: string;
}

export interface LlmUsageGroup {
  /** The model name, agent id, team id or provider name. */
  key: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

export interface LlmUsageRepository {
  /**
   * Stores the request and adds its tokens to its agent's and team's daily totals: three statements, so run it
   * in a transaction (`store.transaction`).
   */
  insert(record: LlmUsageRecord): Promise<void>;
  /**
   * Input plus output tokens of one agent's or one team's requests on UTC days from `sinceDay` (the start of a
   * UTC day, epoch ms) on, from the daily totals: a budget check reads at most 31 rows however busy the agent.
   */
  totalTokens(owner: { agentId: string } | { teamId: string }, sinceDay: number): Promise<number>;
  /** Requests and tokens in the window, grouped, ordered by key. */
  summarize(filter: LlmUsageFilter, by: LlmUsageGrouping): Promise<LlmUsageGroup[]>;
}

const DAY_MS = 24 * 3600_000;

const GROUP_COLUMNS: Record<LlmUsageGrouping, string> = {
  model: 'model',
  agent: 'agent_id',
  team: 'team_id',
  provider: 'provider',
};

interface GroupRow {
  key: string;
  requests: number | string;
  input_tokens: number | string | null;
  output_tokens: number | string | null;
}

export function createLlmUsageRepository(db: SqlExecutor): LlmUsageRepository {
  return {
    async insert(record) {
      await db.run(
        `INSERT INTO llm_usage (id, at, agent_id, team_id, session_id, provider, operation, model, input_tokens,
           output_tokens, outcome, duration_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          record.id,
          record.at,
          record.agentId,
          record.teamId,
          record.sessionId,
          record.provider,
          record.operation,
          record.model,
          record.inputTokens,
          record.outputTokens,
          record.outcome,
          Math.round(record.durationMs),
        ],
      );
      const day = record.at - (record.at % DAY_MS);
      const tokens = record.inputTokens + record.outputTokens;
      await db.runMany(
        `INSERT INTO llm_usage_daily (scope, owner_id, day, requests, tokens) VALUES (?, ?, ?, 1, ?)
         ON CONFLICT (scope, owner_id, day) DO UPDATE SET requests = llm_usage_daily.requests + 1,
           tokens = llm_usage_daily.tokens + excluded.tokens`,
        [
          ['agent', record.agentId, day, tokens],
          ['team', record.teamId, day, tokens],
        ],
      );
    },
    async totalTokens(owner, sinceDay) {
      const [scope, id] = 'agentId' in owner ? ['agent', owner.agentId] : ['team', owner.teamId];
      const row = await db.get<{ total: number | string | null }>(
        'SELECT SUM(tokens) AS total FROM llm_usage_daily WHERE scope = ? AND owner_id = ? AND day >= ?',
        [scope, id, sinceDay],
      );
      return Number(row?.total ?? 0);
    },
    async summarize(filter, by) {
      const column = GROUP_COLUMNS[by];
      const where = ['at >= ?'];
      const params: SqlValue[] = [filter.since];
      if (filter.until !== undefined) {
        where.push('at < ?');
        params.push(filter.until);
      }
      if (filter.agentId !== undefined) {
        where.push('agent_id = ?');
        params.push(filter.agentId);
      }
      if (filter.teamId !== undefined) {
        where.push('team_id = ?');
        params.push(filter.teamId);
      }
      const rows = await db.all<GroupRow>(
        `SELECT ${column} AS key, COUNT(*) AS requests, SUM(input_tokens) AS input_tokens,
           SUM(output_tokens) AS output_tokens
         FROM llm_usage WHERE ${where.join(' AND ')} GROUP BY ${column} ORDER BY ${column}`,
        params,
      );
      // PostgreSQL returns COUNT and SUM of BIGINT as strings.
      return rows.map((row) => ({
        key: row.key,
        requests: Number(row.requests),
        inputTokens: Number(row.input_tokens ?? 0),
        outputTokens: Number(row.output_tokens ?? 0),
      }));
    },
  };
}
