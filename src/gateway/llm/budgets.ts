import type { GatehouseConfig } from '../../config/index.js';
import { GatehouseError } from '../../errors/index.js';
import type { Store } from '../../store/index.js';

export type LlmBudgets = GatehouseConfig['llm']['budgets'];
export type TokenBudget = LlmBudgets['agents'][string];
export type BudgetWindow = 'daily' | 'monthly';

/** One configured budget as it stands now. */
export interface BudgetStatus {
  scope: 'agent' | 'team';
  /** The agent's or team's name, as configured. */
  name: string;
  window: BudgetWindow;
  limit: number;
  used: number;
  /** When the window started and when it resets, epoch ms (UTC days and calendar months). */
  since: number;
  resetsAt: number;
}

/** The current UTC day and calendar month as [start, end) in epoch ms. */
export function budgetWindow(window: BudgetWindow, now: number): { since: number; resetsAt: number } {
  const date = new Date(now);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  if (window === 'daily') {
    const since = Date.UTC(year, month, date.getUTCDate());
    return { since, resetsAt: since + 24 * 3600_000 };
  }
  return { since: Date.UTC(year, month, 1), resetsAt: Date.UTC(year, month + 1, 1) };
}

export interface BudgetOwner {
  agent: { id: string; name: string };
  team: { id: string; name: string };
}

/** The budgets configured for an agent and its team, with the tokens used in their current windows. */
export async function budgetStatuses(
  store: Store,
  budgets: LlmBudgets,
  owner: BudgetOwner,
  now: number,
): Promise<BudgetStatus[]> {
  return [
    ...(await statusesOf(store, 'agent', owner.agent, budgets.agents[owner.agent.name], now)),
    ...(await statusesOf(store, 'team', owner.team, budgets.teams[owner.team.name], now)),
  ];
}

/** One agent's or team's budget windows with the tokens used in them; none when it has no budget. */
export async function statusesOf(
  store: Store,
  scope: 'agent' | 'team',
  entity: { id: string; name: string },
  budget: TokenBudget | undefined,
  now: number,
): Promise<BudgetStatus[]> {
  const statuses: BudgetStatus[] = [];
  if (!budget) return statuses;
  for (const window of ['daily', 'monthly'] as const) {
    const limit = budget[window];
    if (limit === undefined) continue;
    const { since, resetsAt } = budgetWindow(window, now);
    const used = await store.llmUsage.totalTokens(
      scope === 'agent' ? { agentId: entity.id } : { teamId: entity.id },
      since,
    );
    statuses.push({ scope, name: entity.name, window, limit, used, since, resetsAt });
  }
  return statuses;
}

/**
 * Refuses a request (`budget_exceeded`) when the agent or its team has used its daily or monthly token budget:
 * checked before the provider sees anything. A request is let through while anything is left, so the last one
 * may go over by its own size; the next is refused.
 */
export async function enforceBudgets(
  store: Store,
  budgets: LlmBudgets,
  owner: BudgetOwner,
  now: number,
): Promise<void> {
  if (budgets.agents[owner.agent.name] === undefined && budgets.teams[owner.team.name] === undefined) return;
  for (const status of await budgetStatuses(store, budgets, owner, now)) {
    if (status.used < status.limit) continue;
    throw new GatehouseError(
      'budget_exceeded',
      `${status.scope} \`${status.name}\` has used ${status.used} of its ${status.window} budget of ` +
        `${status.limit} tokens; it resets at ${new Date(status.resetsAt).toISOString()}`,
      {
        details: {
          scope: status.scope,
          name: status.name,
          window: status.window,
          limit: status.limit,
          used: status.used,
          resetsAt: new Date(status.resetsAt).toISOString(),
        },
      },
    );
  }
}
