import type { Command } from 'commander';
import { GatehouseError } from '../../errors/index.js';
import { createCommandContext } from '../context.js';
import { type CliIo, renderRecord, renderTable } from '../output.js';

interface SessionView {
  id: string;
  agentId: string;
  scope: Record<string, unknown>;
  steps: number;
  taint: { secrecy: string[]; integrity: string[] };
  terminated: { ruleId: string; step: number } | null;
  createdAt: string;
  updatedAt: string;
}

interface CallView {
  step: number;
  at: string;
  tool: string;
  effect: string;
  code: string;
  ruleIds: string[];
  outcome: string;
  shadow?: { effect: string };
}

/** `gatehouse sessions …`: what agents did, call by call, and tasks with a scope. */
export function registerSessionCommands(program: Command, io: CliIo) {
  const sessions = program
    .command('sessions')
    .description('agent sessions: timelines of calls and decisions');

  sessions
    .command('list')
    .description('recent sessions, most recently active first')
    .option('--agent <agent>', 'only this agent (id or name)')
    .option('--limit <n>', 'how many', '50')
    .action(async (options: { agent?: string; limit: string }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const query = new URLSearchParams({
        limit: options.limit,
        ...(options.agent ? { agent: options.agent } : {}),
      });
      const result = await ctx.withClient((client) =>
        ctx.call<{ sessions: SessionView[] }>(client, 'GET', `/admin/v1/sessions?${query}`),
      );
      ctx.print(result, () =>
        renderTable(result.sessions, [
          ['SESSION', (s) => s.id],
          ['AGENT', (s) => s.agentId],
          ['CALLS', (s) => s.steps],
          ['TAINT', (s) => [...s.taint.secrecy, ...s.taint.integrity]],
          ['ENDED BY', (s) => s.terminated?.ruleId],
          ['LAST ACTIVE', (s) => s.updatedAt],
        ]),
      );
    });

  sessions
    .command('show')
    .description("a session's timeline: every call with its decision and the rules behind it")
    .argument('<session>', 'session id (ses_…)')
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ session: SessionView; calls: CallView[] }>(
          client,
          'GET',
          `/admin/v1/sessions/${encodeURIComponent(id)}`,
        ),
      );
      ctx.print(result, () => {
        const { session } = result;
        const head = renderRecord({
          session: session.id,
          agent: session.agentId,
          scope: JSON.stringify(session.scope),
          calls: session.steps,
          taint: [...session.taint.secrecy, ...session.taint.integrity],
          'ended by': session.terminated
            ? `${session.terminated.ruleId} at step ${session.terminated.step}`
            : null,
        });
        const calls =
          result.calls.length === 0
            ? 'no calls yet\n'
            : renderTable(result.calls, [
                ['STEP', (c) => c.step],
                ['AT', (c) => c.at],
                ['TOOL', (c) => c.tool],
                ['DECISION', (c) => `${c.effect} (${c.code})`],
                ['RULES', (c) => c.ruleIds],
                ['RAN', (c) => (c.outcome === 'allowed' ? 'yes' : 'no')],
                ['SHADOW', (c) => c.shadow?.effect],
              ]);
        return `${head}\n${calls}`;
      });
    });

  sessions
    .command('graph')
    .description(
      'the call graph of the task a session belongs to: users, agents and tools; delegations and calls with decisions',
    )
    .argument('<session>', 'session id (ses_…)')
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ graph: GraphView }>(client, 'GET', `/admin/v1/sessions/${encodeURIComponent(id)}/graph`),
      );
      ctx.print(result, () => renderGraph(result.graph));
    });

  sessions
    .command('start')
    .description(
      'create a task session for an agent with a scope; the agent joins it with the gatehouse-session header',
    )
    .requiredOption('--agent <agent>', 'agent id or name')
    .option('--scope <json>', 'the task scope, e.g. {"customer":"A"}', '{}')
    .action(async (options: { agent: string; scope: string }, command: Command) => {
      const ctx = createCommandContext(io, command);
      let scope: unknown;
      try {
        scope = JSON.parse(options.scope);
      } catch {
        throw new GatehouseError('invalid_request', '--scope is not JSON');
      }
      const result = await ctx.withClient((client) =>
        ctx.call<{ session: SessionView }>(client, 'POST', '/admin/v1/sessions', {
          agent: options.agent,
          scope,
        }),
      );
      ctx.print(result, () => `${result.session.id}\n`);
    });
}

interface GraphView {
  session: string;
  rootToken: string | null;
  sessions: string[];
  nodes: Array<{ id: string; kind: string; label: string }>;
  edges: Array<{
    from: string;
    to: string;
    kind: 'delegation' | 'call';
    via?: string;
    session?: string;
    step?: number;
    effect?: string;
    code?: string;
    at: string;
  }>;
}

/** Delegations, then calls, as `from -> to` lines with the decision of each call. */
function renderGraph(graph: GraphView): string {
  const label = new Map(graph.nodes.map((node) => [node.id, `${node.kind} ${node.label}`]));
  const name = (id: string) => label.get(id) ?? id;
  const head = renderRecord({
    session: graph.session,
    'task sessions': graph.sessions,
    'root token': graph.rootToken,
  });
  const delegations = graph.edges.filter((edge) => edge.kind === 'delegation');
  const calls = graph.edges.filter((edge) => edge.kind === 'call');
  const delegationLines =
    delegations.length === 0
      ? 'no delegation: the agent acts for itself\n'
      : renderTable(delegations, [
          ['DELEGATED BY', (edge) => name(edge.from)],
          ['TO', (edge) => name(edge.to)],
          ['VIA CALL', (edge) => edge.via],
          ['AT', (edge) => edge.at],
        ]);
  const callLines =
    calls.length === 0
      ? 'no calls yet\n'
      : renderTable(calls, [
          ['AGENT', (edge) => name(edge.from)],
          ['TOOL', (edge) => name(edge.to).replace(/^tool /, '')],
          ['DECISION', (edge) => `${edge.effect} (${edge.code})`],
          ['SESSION', (edge) => `${edge.session} #${edge.step}`],
          ['AT', (edge) => edge.at],
        ]);
  return `${head}\n${delegationLines}\n${callLines}`;
}
