import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { GatehouseError } from '../../errors/index.js';
import {
  type BundleDiff,
  type CaseProblem,
  checkBundle,
  compileBundle,
  type Decision,
  emptySessionState,
  explain,
  formatLintReport,
  formatPolicyProblem,
  type LintPrincipal,
  lintBundle,
  type PolicyProblem,
  type Principal,
  parseTestCases,
  replaySession,
  runTestSessions,
  type TestSession,
} from '../../policy/index.js';
import { readPolicySources } from '../../policy-runtime/index.js';
import { collectLabel, collectList, createCommandContext } from '../context.js';
import { type CliIo, renderRecord, renderTable } from '../output.js';

/** `gatehouse policy …`: work on bundles locally (check, test, explain) and manage the server's versions. */
export function registerPolicyCommands(program: Command, io: CliIo) {
  const policy = program
    .command('policy')
    .description('policy bundles: check, test, explain, lint, versions');
  const resolvePath = (file: string) => path.resolve(io.cwd, file);

  policy
    .command('check')
    .description('compile a bundle (a YAML file or a directory of them) and report every problem')
    .argument('<bundle>', 'policy file or directory')
    .action(async (bundlePath: string, _options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const sources = await readPolicySources(resolvePath(bundlePath));
      const result = checkBundle(sources);
      if (!result.ok) throw bundleProblems(result.problems);
      const report = {
        ok: true,
        files: result.bundle.files,
        rules: result.bundle.rules.length,
        labels: [...result.bundle.knownLabels].sort(),
        digest: result.bundle.digest,
      };
      ctx.print(
        report,
        () =>
          `ok: ${report.rules} rules in ${report.files.length} file(s), ${report.labels.length} labels, ${report.digest}\n`,
      );
    });

  policy
    .command('test')
    .description('replay recorded sessions (JSONL) and compare every decision with its `expect`')
    .argument('<bundle>', 'policy file or directory')
    .argument('<cases...>', 'JSONL files or directories of them')
    .option('--verbose', 'print every call, not only failures')
    .action(
      async (bundlePath: string, casePaths: string[], options: { verbose?: boolean }, command: Command) => {
        const ctx = createCommandContext(io, command);
        const bundle = compileBundle(await readPolicySources(resolvePath(bundlePath)));
        const { sessions, problems } = await readCases(casePaths.map(resolvePath));
        if (problems.length > 0) {
          throw new GatehouseError(
            'invalid_request',
            `test cases do not parse: ${problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('; ')}`,
            { details: { problems } },
          );
        }
        const run = runTestSessions(bundle, sessions);
        ctx.print(run, () => {
          const lines: string[] = [];
          for (const result of run.results) {
            if (result.passed === false) {
              lines.push(
                `FAIL ${path.relative(io.cwd, result.file)}:${result.line} ${result.session} ${result.tool}: ${result.mismatch}`,
              );
              lines.push(`     ${describeDecision(result.decision)}`);
            } else if (options.verbose) {
              const mark = result.passed ? 'ok  ' : '    ';
              lines.push(`${mark} ${result.session} ${result.tool}: ${describeDecision(result.decision)}`);
            }
          }
          lines.push(
            `${run.failed === 0 ? 'PASS' : 'FAIL'}: ${run.passed} passed, ${run.failed} failed, ${run.unchecked} without expectation, in ${sessions.length} session(s)`,
          );
          return `${lines.join('\n')}\n`;
        });
        if (run.failed > 0) {
          throw new GatehouseError(
            'policy_test_failed',
            `${run.failed} call(s) decided differently than expected`,
          );
        }
      },
    );

  policy
    .command('explain')
    .description('decide one call with a local bundle and show why, rule by rule')
    .argument('<bundle>', 'policy file or directory')
    .requiredOption('--tool <name>', 'namespaced tool name, e.g. github.create_issue')
    .option('--args <json>', 'call arguments as a JSON object', '{}')
    .option('--agent <id>', 'agent id or name', 'agent')
    .option('--team <name>', "the agent's team")
    .option('--review <status>', "the agent's review status", 'approved')
    .option('--label <key=value>', 'agent label (repeatable)', collectLabel)
    .option('--scope <json>', 'session scope as a JSON object', '{}')
    .option('--history <file>', 'a JSONL test file whose session replays before the call')
    .option('--session <id>', 'which session of --history (default: the first)')
    .action(async (bundlePath: string, options: ExplainOptions, command: Command) => {
      const ctx = createCommandContext(io, command);
      const bundle = compileBundle(await readPolicySources(resolvePath(bundlePath)));
      const principal: Principal = {
        id: options.agent,
        name: options.agent,
        review: options.review,
        ...(options.team ? { team: options.team } : {}),
        ...(options.label ? { labels: options.label } : {}),
      };
      let state = emptySessionState();
      let scope = parseJsonObject(options.scope, '--scope');
      let now = Date.UTC(2026, 0, 1);
      if (options.history) {
        const { sessions, problems } = await readCases([resolvePath(options.history)]);
        if (problems.length > 0)
          throw new GatehouseError('invalid_request', `--history does not parse`, { details: { problems } });
        const session = options.session ? sessions.find((s) => s.id === options.session) : sessions[0];
        if (!session)
          throw new GatehouseError('invalid_request', `no session \`${options.session ?? ''}\` in --history`);
        const subject = { principal: session.header.principal, scope: session.header.scope ?? {} };
        const last = replaySession(bundle, subject, session.calls).at(-1);
        if (last) {
          state = last.after;
          now = last.call.at + 1000;
        }
        if (options.scope === '{}') scope = session.header.scope ?? {};
      }
      const explanation = explain(bundle, {
        principal,
        call: { tool: options.tool, args: parseJsonObject(options.args, '--args') },
        session: { scope, state },
        now,
      });
      ctx.print(explanation, () => {
        const { decision } = explanation;
        const head = renderRecord({
          effect: decision.effect,
          code: decision.code,
          rules: decision.ruleIds,
          reason: decision.reason,
          ...(decision.approval ? { approvers: decision.approval.approvers } : {}),
          labels: bundle.labelsOf(options.tool),
          taint: [...state.taint.secrecy, ...state.taint.integrity],
          bundle: decision.bundleVersion,
        });
        const rules =
          explanation.rules.length === 0
            ? 'no rule applies to this tool\n'
            : renderTable(explanation.rules, [
                ['RULE', (r) => r.ruleId],
                ['EFFECT', (r) => r.effect],
                ['OUTCOME', (r) => r.outcome],
                ['WHY', (r) => r.detail],
                ['WHERE', (r) => `${r.file}:${r.line}`],
              ]);
        return `${head}\n${rules}`;
      });
    });

  policy
    .command('lint')
    .description(
      'toxic combinations: label sequences (reads:secret then egress, ...) an agent can reach unhindered',
    )
    .argument('<bundle>', 'policy file or directory')
    .option('--agent <name>', 'analyse this agent (repeatable; `name@team` gives its team)', collectList)
    .option('--team <name>', 'analyse this team (repeatable)', collectList)
    .option(
      '--pair <source:sink>',
      'a label pair to look for instead of the defaults, e.g. reads:pii>egress',
      collectList,
    )
    .option('--strict', 'exit 8 when a toxic combination is found')
    .action(
      async (
        bundlePath: string,
        options: { agent?: string[]; team?: string[]; pair?: string[]; strict?: boolean },
        command: Command,
      ) => {
        const ctx = createCommandContext(io, command);
        const bundle = compileBundle(await readPolicySources(resolvePath(bundlePath)));
        const principals: LintPrincipal[] = [
          ...(options.agent ?? []).map((value): LintPrincipal => {
            const [name = value, team] = value.split('@');
            return team ? { kind: 'agent', name, team } : { kind: 'agent', name };
          }),
          ...(options.team ?? []).map((name): LintPrincipal => ({ kind: 'team', name })),
        ];
        const pairs = options.pair?.map((value) => {
          const [source, sink] = value.split('>');
          if (!source || !sink)
            throw new GatehouseError('invalid_request', `--pair \`${value}\` must be source>sink`);
          return { source, sink };
        });
        const report = lintBundle(bundle, {
          ...(principals.length > 0 ? { principals } : {}),
          ...(pairs ? { pairs } : {}),
        });
        ctx.print(report, () => formatLintReport(report));
        if (options.strict && report.summary.toxic > 0) {
          throw new GatehouseError(
            'policy_lint_failed',
            `${report.summary.toxic} toxic combination(s) reachable`,
          );
        }
      },
    );

  // Server-side versions.
  policy
    .command('publish')
    .description('store a bundle as a new version on the server')
    .argument('<bundle>', 'policy file or directory')
    .option('--activate', 'enforce it now')
    .option('--shadow', 'evaluate it beside the active one without enforcing it')
    .option('-m, --message <text>', 'what changed')
    .action(
      async (
        bundlePath: string,
        options: { activate?: boolean; shadow?: boolean; message?: string },
        command: Command,
      ) => {
        const ctx = createCommandContext(io, command);
        const sources = await readPolicySources(resolvePath(bundlePath));
        const result = await ctx.withClient((client) =>
          ctx.call<{ version: number; unchanged: boolean; activated: boolean }>(
            client,
            'POST',
            '/admin/v1/policies',
            {
              sources,
              ...options,
            },
          ),
        );
        ctx.print(result, () => {
          const what = result.unchanged
            ? `unchanged: already version ${result.version}`
            : `published version ${result.version}`;
          const extra = [options.activate ? 'active' : '', options.shadow ? 'in shadow mode' : '']
            .filter(Boolean)
            .join(', ');
          return `${what}${extra ? ` (${extra})` : ''}\n`;
        });
      },
    );

  policy
    .command('activate')
    .description('enforce a stored version')
    .argument('<version>', 'version number')
    .action(async (version: string, _options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ status: unknown }>(
          client,
          'POST',
          `/admin/v1/policies/${encodeURIComponent(version)}/activate`,
        ),
      );
      ctx.print(result, () => `version ${version} is now active\n`);
    });

  policy
    .command('shadow')
    .description('evaluate a stored version beside the active one (differences are recorded), or --off')
    .argument('[version]', 'version number')
    .option('--off', 'stop shadow evaluation')
    .action(async (version: string | undefined, options: { off?: boolean }, command: Command) => {
      const ctx = createCommandContext(io, command);
      if ((version === undefined) === !options.off) {
        throw new GatehouseError('invalid_request', 'give a version, or --off');
      }
      const body = { version: options.off ? null : Number(version) };
      const result = await ctx.withClient((client) =>
        ctx.call(client, 'POST', '/admin/v1/policies/shadow', body),
      );
      ctx.print(result, () =>
        options.off ? 'shadow evaluation stopped\n' : `version ${version} runs in shadow mode\n`,
      );
    });

  policy
    .command('versions')
    .description('stored versions and which are active and in shadow')
    .action(async (_options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{
          status: { active: { version: number } | null; shadow: { version: number } | null };
          versions: Array<{
            version: number;
            digest: string;
            createdAt: string;
            createdBy: string;
            message: string | null;
          }>;
        }>(client, 'GET', '/admin/v1/policies'),
      );
      ctx.print(result, () =>
        renderTable(result.versions, [
          ['VERSION', (v) => v.version],
          [
            'STATE',
            (v) =>
              v.version === result.status.active?.version
                ? 'active'
                : v.version === result.status.shadow?.version
                  ? 'shadow'
                  : '',
          ],
          ['CREATED', (v) => v.createdAt],
          ['BY', (v) => v.createdBy],
          ['DIGEST', (v) => v.digest.slice(0, 19)],
          ['MESSAGE', (v) => v.message],
        ]),
      );
    });

  policy
    .command('diff')
    .description(
      'replay recorded sessions through the active bundle and a candidate; list every changed decision',
    )
    .argument('<candidate>', 'policy file or directory, or a stored version number')
    .option('--since <duration>', 'sessions started within this long ago', '7d')
    .option('--limit <calls>', 'at most this many recorded calls', '100000')
    .action(async (candidate: string, options: { since: string; limit: string }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const body = /^\d+$/.test(candidate)
        ? { version: Number(candidate) }
        : { sources: await readPolicySources(resolvePath(candidate)) };
      const result = await ctx.withClient((client) =>
        ctx.call<BundleDiff & { active: string; candidate: string }>(
          client,
          'POST',
          '/admin/v1/policies/diff',
          {
            ...body,
            since: options.since,
            limit: Number(options.limit),
          },
        ),
      );
      ctx.print(result, () => {
        const head = `${result.changes.length} of ${result.calls} recorded call(s) in ${result.sessions} session(s) would be decided differently (active ${result.active} -> ${result.candidate})\n`;
        if (result.changes.length === 0) return head;
        return `${head}${renderTable(result.changes, [
          ['SESSION', (c) => c.sessionId],
          ['STEP', (c) => c.step],
          ['TOOL', (c) => c.tool],
          ['NOW', (c) => `${c.before.effect} ${c.before.ruleIds.join(',')}`.trim()],
          ['CANDIDATE', (c) => `${c.after.effect} ${c.after.ruleIds.join(',')}`.trim()],
        ])}`;
      });
    });
}

interface ExplainOptions {
  tool: string;
  args: string;
  agent: string;
  team?: string;
  review: string;
  label?: Record<string, string>;
  scope: string;
  history?: string;
  session?: string;
}

function describeDecision(decision: Decision): string {
  const rules = decision.ruleIds.length > 0 ? ` [${decision.ruleIds.join(', ')}]` : '';
  return `${decision.effect} (${decision.code})${rules}: ${decision.reason}`;
}

function bundleProblems(problems: PolicyProblem[]): GatehouseError {
  return new GatehouseError(
    'policy_invalid',
    `the bundle does not compile:\n${problems.map((problem) => `  ${formatPolicyProblem(problem)}`).join('\n')}`,
    { details: { problems } },
  );
}

function parseJsonObject(text: string, flag: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatehouseError('invalid_request', `${flag} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GatehouseError('invalid_request', `${flag} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

async function readCases(paths: string[]): Promise<{ sessions: TestSession[]; problems: CaseProblem[] }> {
  const files: string[] = [];
  for (const location of paths) {
    const info = await stat(location).catch(() => {
      throw new GatehouseError('invalid_request', `cannot read test cases \`${location}\``);
    });
    if (info.isDirectory()) {
      const entries = await readdir(location, { recursive: true });
      files.push(
        ...entries
          .filter((entry) => entry.endsWith('.jsonl'))
          .sort()
          .map((entry) => path.join(location, entry)),
      );
    } else files.push(location);
  }
  const sessions: TestSession[] = [];
  const problems: CaseProblem[] = [];
  for (const file of files) {
    const parsed = parseTestCases(file, await readFile(file, 'utf8'));
    sessions.push(...parsed.sessions);
    problems.push(...parsed.problems);
  }
  return { sessions, problems };
}
