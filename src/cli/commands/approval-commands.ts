import type { Command } from 'commander';
import type { ApprovalView } from '../../approvals/index.js';
import { createCommandContext } from '../context.js';
import { type CliIo, renderRecord, renderTable } from '../output.js';

/** `gatehouse approvals …`: the queue of calls waiting for people, and approving or denying them. */
export function registerApprovalCommands(program: Command, io: CliIo) {
  const approvals = program
    .command('approvals')
    .description('human approval of parked tool calls (docs/approvals.md)');

  approvals
    .command('list')
    .description('approval requests, newest first')
    .option('--state <state>', 'pending or resolved (default: all)')
    .option('--limit <n>', 'how many', '100')
    .action(async (options: { state?: string; limit: string }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const query = new URLSearchParams({
        limit: options.limit,
        ...(options.state ? { state: options.state } : {}),
      });
      const result = await ctx.withClient((client) =>
        ctx.call<{ approvals: ApprovalView[] }>(client, 'GET', `/admin/v1/approvals?${query}`),
      );
      ctx.print(result, () =>
        renderTable(result.approvals, [
          ['ID', (a) => a.id],
          ['STATE', (a) => a.state],
          ['AGENT', (a) => a.agent.name ?? a.agent.id],
          ['TOOL', (a) => a.tool],
          ['APPROVALS', (a) => `${a.approvals}/${a.required}`],
          ['REQUESTED', (a) => a.requestedAt],
          ['EXPIRES', (a) => a.expiresAt],
        ]),
      );
    });

  approvals
    .command('show')
    .description('one request: the call, its arguments (secrets redacted), the rule, and the votes')
    .argument('<id>', 'request id (apr_…)')
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ approval: ApprovalView }>(client, 'GET', `/admin/v1/approvals/${encodeURIComponent(id)}`),
      );
      ctx.print(result, () => renderApproval(result.approval));
    });

  for (const action of ['approve', 'deny'] as const) {
    approvals
      .command(action)
      .description(
        action === 'approve'
          ? 'approve a request (needs an admin token bound to a person with the approver or admin role)'
          : 'deny a request; the waiting call fails',
      )
      .argument('<id>', 'request id (apr_…)')
      .requiredOption('--reason <text>', 'why: recorded in the audit log')
      .action(async (id: string, options: { reason: string }, command: Command) => {
        const ctx = createCommandContext(io, command);
        const result = await ctx.withClient((client) =>
          ctx.call<{ approval: ApprovalView }>(
            client,
            'POST',
            `/admin/v1/approvals/${encodeURIComponent(id)}/${action}`,
            { reason: options.reason },
          ),
        );
        ctx.print(result, () => renderApproval(result.approval));
      });
  }
}

function renderApproval(approval: ApprovalView): string {
  const head = renderRecord({
    id: approval.id,
    state: approval.state,
    agent: `${approval.agent.name ?? '?'} (${approval.agent.id})`,
    session: approval.sessionId,
    user: approval.user?.email ?? approval.user?.id ?? '-',
    tool: approval.tool,
    arguments: JSON.stringify(approval.arguments),
    rules: approval.ruleIds,
    reason: approval.reason,
    approvals: `${approval.approvals}/${approval.required}`,
    requested: approval.requestedAt,
    expires: approval.expiresAt,
    resolved: approval.resolvedAt ? `${approval.resolvedAt} by ${approval.resolvedBy}` : '-',
    consumed: approval.consumedAt ?? '-',
  });
  if (approval.votes.length === 0) return head;
  return `${head}\n${renderTable(approval.votes, [
    ['VOTE', (v) => v.vote],
    ['APPROVER', (v) => v.approverId],
    ['ACTOR', (v) => v.actor],
    ['AT', (v) => v.at],
    ['REASON', (v) => v.reason],
  ])}`;
}
