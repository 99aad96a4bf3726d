import type { Command } from 'commander';
import { visibleText } from '../../gateway/pinning/visible-text.js';
import { createCommandContext } from '../context.js';
import { type CliIo, renderTable } from '../output.js';

interface FindingView {
  tool: string;
  rule: string;
  severity: string;
  field: string;
  excerpt: string;
  message: string;
}

interface PendingView {
  agentId: string;
  agentName: string;
  tool: string;
  upstream: string;
  kind: 'changed' | 'new';
  hash: string;
  pinnedHash: string | null;
  heldAt: string | null;
  diff: { description: string | null; inputSchema: string | null } | null;
  current: { name: string; description: string | null; inputSchema: unknown };
  findings: FindingView[];
}

interface ScanView {
  agentId: string;
  agentName: string;
  pinning: 'active' | 'inactive';
  tools: Array<{ tool: string; hash: string; status: string; usable: boolean; findings: FindingView[] }>;
  summary: { tools: number; findings: number; worst: string | null };
}

interface AcceptedView {
  tool: string;
  kind: string;
  hash: string;
  previousHash: string | null;
}

const enc = encodeURIComponent;
const short = (hash: string | null) => (hash ? hash.slice(0, 12) : '-');
const indent = (text: string, prefix = '    ') =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');

/** Findings as reviewers read them; every excerpt already spells out invisible characters. */
export function renderFindings(findings: readonly FindingView[], prefix = '  '): string {
  if (findings.length === 0) return `${prefix}no findings\n`;
  return `${findings
    .map(
      (finding) =>
        `${prefix}[${finding.severity}] ${finding.rule} in ${finding.field}: ${finding.message}\n${prefix}    ${finding.excerpt}`,
    )
    .join('\n')}\n`;
}

function renderPending(pending: readonly PendingView[]): string {
  if (pending.length === 0) return 'no tools are held for review\n';
  const blocks = pending.map((item) => {
    const head =
      `${item.agentName}: ${item.tool} ${item.kind === 'changed' ? 'CHANGED' : 'NEW'}` +
      ` (hash ${short(item.pinnedHash)} -> ${short(item.hash)}${item.heldAt ? `, held since ${item.heldAt}` : ''})`;
    const body: string[] = [];
    if (item.diff) {
      if (item.diff.description) body.push(indent(item.diff.description));
      if (item.diff.inputSchema) body.push(indent(item.diff.inputSchema));
    } else {
      body.push(`  description: ${visibleText(item.current.description ?? '(none)')}`);
      body.push(`  inputSchema: ${visibleText(JSON.stringify(item.current.inputSchema))}`);
    }
    body.push('  findings:');
    body.push(renderFindings(item.findings, '    ').trimEnd());
    body.push(`  accept: gatehouse tools accept ${item.agentName} ${item.tool} --hash ${item.hash}`);
    return `${head}\n${body.join('\n')}`;
  });
  return `${blocks.join('\n\n')}\n`;
}

/** `gatehouse tools …`: tool definitions held for review (pinning), accepting them, and the injection scanner. */
export function registerToolCommands(program: Command, io: CliIo) {
  const tools = program
    .command('tools')
    .description('upstream tool pinning: held changes, accepting them, scanning descriptions');

  tools
    .command('pending')
    .description('tools held for review: changed definitions with their diff, and new tools')
    .option('--agent <agent>', 'only this agent (id or name)')
    .action(async (options: { agent?: string }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const query = options.agent ? `?${new URLSearchParams({ agent: options.agent })}` : '';
      const result = await ctx.withClient((client) =>
        ctx.call<{ pending: PendingView[] }>(client, 'GET', `/admin/v1/tools/pending${query}`),
      );
      ctx.print(result, () => renderPending(result.pending));
    });

  tools
    .command('accept')
    .description("pin a held tool's current definition for an agent, so it sees the tool again")
    .argument('<agent>', 'agent id or name')
    .argument('[tool]', 'the held tool, `<upstream>.<tool>`')
    .option('--all', 'accept every tool held for the agent')
    .option('--hash <sha256>', 'accept only if the definition is still this one (from `tools pending`)')
    .action(
      async (
        agent: string,
        tool: string | undefined,
        options: { all?: boolean; hash?: string },
        command: Command,
      ) => {
        const ctx = createCommandContext(io, command);
        const result = await ctx.withClient((client) =>
          ctx.call<{ accepted: AcceptedView[] }>(
            client,
            'POST',
            `/admin/v1/agents/${enc(agent)}/tools/accept`,
            {
              ...(tool === undefined ? {} : { tool }),
              ...(options.all ? { all: true } : {}),
              ...(options.hash ? { hash: options.hash } : {}),
            },
          ),
        );
        ctx.print(result, () =>
          result.accepted.length === 0
            ? 'no tools were held\n'
            : result.accepted
                .map(
                  (item) => `accepted ${item.tool} (${item.kind}, hash ${short(item.hash)}) for ${agent}\n`,
                )
                .join(''),
        );
      },
    );

  tools
    .command('scan')
    .description("scan an agent's tool descriptions for instructions aimed at the model")
    .argument('<agent>', 'agent id or name')
    .action(async (agent: string, _options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ scan: ScanView }>(client, 'GET', `/admin/v1/agents/${enc(agent)}/tools/scan`),
      );
      ctx.print(result, () => {
        const { scan } = result;
        const head =
          `agent ${scan.agentName}: ${scan.summary.tools} tools, ${scan.summary.findings} findings` +
          `${scan.summary.worst ? ` (worst: ${scan.summary.worst})` : ''}; pinning ${scan.pinning}\n\n`;
        const table = renderTable(scan.tools, [
          ['TOOL', (t) => t.tool],
          ['STATUS', (t) => t.status],
          ['USABLE', (t) => (t.usable ? 'yes' : 'no')],
          ['HASH', (t) => short(t.hash)],
          ['FINDINGS', (t) => t.findings.length],
        ]);
        const withFindings = scan.tools.filter((t) => t.findings.length > 0);
        const details = withFindings.map((t) => `\n${t.tool}:\n${renderFindings(t.findings)}`).join('');
        return head + table + details;
      });
    });
}
