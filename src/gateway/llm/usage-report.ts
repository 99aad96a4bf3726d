import type { GatehouseConfig } from '../../config/index.js';
import { type Agent, requireAgent, requireTeam, type Team } from '../../registry/index.js';
import type { LlmUsageGrouping, Store } from '../../store/index.js';
import { type BudgetStatus, statusesOf } from './budgets.js';

export interface UsageReportQuery {
  /** Start of the window, epoch ms (inclusive). */
  since: number;
  /** End of the window, epoch ms (exclusive). */
  until: number;
  /** An agent id or name. */
  agent?: string;
  /** A team id or name. */
  team?: string;
  by: LlmUsageGrouping;
}

export interface UsageRow {
  /** The model, agent id, team id or provider name. */
  key: string;
  /** The agent's or team's name when grouped by them; the key otherwise. */
  name: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

export interface UsageReport {
  since: string;
  until: string;
  by: LlmUsageGrouping;
  agent: string | null;
  team: string | null;
  rows: UsageRow[];
  totals: Omit<UsageRow, 'key' | 'name'>;
  /** The configured budgets in scope (all, or the agent's and its team's, or the team's and its agents'). */
  budgets: Array<Omit<BudgetStatus, 'since' | 'resetsAt'> & { remaining: number; resetsAt: string }>;
}

/**
 * Tokens used through the LLM gateway in a window, grouped by model, agent, team or provider, optionally for
 * one agent or team, with the state of the budgets that apply. Counts requests forwarded to a provider; refused
 * ones are in the audit log.
 */
export async function buildUsageReport(
  deps: { store: Store; config: GatehouseConfig },
  query: UsageReportQuery,
  now: number,
): Promise<UsageReport> {
  const { store } = deps;
  const agent = query.agent === undefined ? undefined : await requireAgent(store, query.agent);
  const team = query.team === undefined ? undefined : await requireTeam(store, query.team);
  const groups = await store.llmUsage.summarize(
    {
      since: query.since,
      until: query.until,
      ...(agent ? { agentId: agent.id } : {}),
      ...(team ? { teamId: team.id } : {}),
    },
    query.by,
  );
  const names = await namesFor(store, query.by);
  const rows = groups.map((group) => ({
    key: group.key,
    name: names.get(group.key) ?? group.key,
    requests: group.requests,
    inputTokens: group.inputTokens,
    outputTokens: group.outputTokens,
    totalTokens: group.inputTokens + group.outputTokens,
  }));
  const totals = rows.reduce(
    (sum, row) => ({
      requests: sum.requests + row.requests,
      inputTokens: sum.inputTokens + row.inputTokens,
      outputTokens: sum.outputTokens + row.outputTokens,
      totalTokens: sum.totalTokens + row.totalTokens,
    }),
    { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 },
  );
  const budgets = await budgetsInScope(deps, agent, team, now);
  return {
    since: new Date(query.since).toISOString(),
    until: new Date(query.until).toISOString(),
    by: query.by,
    agent: agent?.name ?? null,
    team: team?.name ?? null,
    rows,
    totals,
    budgets: budgets.map(({ since: _since, resetsAt, ...status }) => ({
      ...status,
      remaining: Math.max(0, status.limit - status.used),
      resetsAt: new Date(resetsAt).toISOString(),
    })),
  };
}

async function namesFor(store: Store, by: LlmUsageGrouping): Promise<Map<string, string>> {
  if (by === 'agent') return new Map((await store.agents.list()).map((agent) => [agent.id, agent.name]));
  if (by === 'team') return new Map((await store.teams.list()).map((team) => [team.id, team.name]));
  return new Map();
}

async function budgetsInScope(
  deps: { store: Store; config: GatehouseConfig },
  agent: Agent | undefined,
  team: Team | undefined,
  now: number,
): Promise<BudgetStatus[]> {
  const { store } = deps;
  const { budgets } = deps.config.llm;
  const agents = agent
    ? [agent]
    : (await store.agents.list(team ? { teamId: team.id } : {})).filter(
        (each) => budgets.agents[each.name] !== undefined,
      );
  const teamIds = new Set(team ? [team.id] : agent ? [agent.teamId] : []);
  const teams = (await store.teams.list()).filter(
    (each) => budgets.teams[each.name] !== undefined && (teamIds.size === 0 || teamIds.has(each.id)),
  );
  const statuses: BudgetStatus[] = [];
  for (const each of agents) {
    statuses.push(...(await statusesOf(store, 'agent', each, budgets.agents[each.name], now)));
  }
  for (const each of teams) {
    statuses.push(...(await statusesOf(store, 'team', each, budgets.teams[each.name], now)));
  }
  return statuses;
}
