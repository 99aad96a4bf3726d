import { type Command, Option } from 'commander';
import type { UsageReport } from '../../gateway/llm/index.js';
import { createCommandContext } from '../context.js';
import { type CliIo, renderTable } from '../output.js';

/** `gatehouse usage`: LLM tokens used through the gateway, and the token budgets. */
export function registerUsageCommand(program: Command, io: CliIo) {
  program
    .command('usage')
    .description(
      'LLM token usage through the gateway, grouped by model, agent, team or provider; and budgets',
    )
    .option('--agent <agent>', 'only this agent (id or name)')
    .option('--team <team>', 'only this team (id or name)')
    .option('--since <when>', 'a duration back from now (7d, 12h) or an ISO 8601 time', '30d')
    .option('--until <when>', 'end of the window (default: now)')
    .addOption(
      new Option('--by <grouping>', 'group rows by')
        .choices(['model', 'agent', 'team', 'provider'])
        .default('model'),
    )
    .action(
      async (
        options: { agent?: string; team?: string; since: string; until?: string; by: string },
        command: Command,
      ) => {
        const ctx = createCommandContext(io, command);
        const query = new URLSearchParams({
          since: options.since,
          by: options.by,
          ...(options.until ? { until: options.until } : {}),
          ...(options.agent ? { agent: options.agent } : {}),
          ...(options.team ? { team: options.team } : {}),
        });
        const report = await ctx.withClient((client) =>
          ctx.call<UsageReport>(client, 'GET', `/admin/v1/usage?${query}`),
        );
        ctx.print(report, () => renderUsage(report));
      },
    );
}

function renderUsage(report: UsageReport): string {
  const scope = [report.agent && `agent ${report.agent}`, report.team && `team ${report.team}`]
    .filter(Boolean)
    .join(', ');
  const head = `LLM usage ${report.since} .. ${report.until}${scope ? ` (${scope})` : ''}\n`;
  const rows =
    report.rows.length === 0
      ? 'no requests in this window\n'
      : renderTable(
          [...report.rows, { key: '', name: 'total', ...report.totals }],
          [
            [report.by.toUpperCase(), (row) => row.name],
            ['REQUESTS', (row) => row.requests],
            ['INPUT', (row) => row.inputTokens],
            ['OUTPUT', (row) => row.outputTokens],
            ['TOTAL', (row) => row.totalTokens],
          ],
        );
  const budgets =
    report.budgets.length === 0
      ? ''
      : `\n${renderTable(report.budgets, [
          ['BUDGET', (budget) => `${budget.scope} ${budget.name}`],
          ['WINDOW', (budget) => budget.window],
          ['USED', (budget) => budget.used],
          ['LIMIT', (budget) => budget.limit],
          ['LEFT', (budget) => budget.remaining],
          ['RESETS', (budget) => budget.resetsAt],
        ])}`;
  return `${head}${rows}${budgets}`;
}
