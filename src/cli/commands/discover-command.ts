import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../../config/index.js';
import {
  applyHistory,
  type Candidate,
  type CandidateRegistrationResult,
  type DiscoveryProgress,
  type DiscoveryReport,
  type Finding,
  finishReport,
  type RegisteredAgentSnapshot,
  type RunHistory,
  registrationFor,
  renderReport,
  runDiscovery,
  type ScanStats,
  toRunRecord,
} from '../../discovery/index.js';
import { GatehouseError, isGatehouseError } from '../../errors/index.js';
import type { AdminClient } from '../admin-client.js';
import { type CommandContext, createCommandContext } from '../context.js';
import type { CliIo } from '../output.js';

interface DiscoverOptions {
  host?: boolean;
  pid?: number[];
  path?: string[];
  logs?: string[];
  traffic: boolean;
  history: boolean;
  offline?: boolean;
  register?: string[];
  team?: string;
  sponsor?: string;
}

const parsePid = (value: string, previous: number[] = []) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`pid \`${value}\` is not a number`);
  return [...previous, Number(value)];
};

/** `gatehouse discover`: finds candidate agents on this host, under paths and in traffic, and compares. */
export function registerDiscoverCommand(program: Command, io: CliIo) {
  program
    .command('discover')
    .description(
      'find shadow agents: processes on this host, code and configs under paths, traffic Gatehouse saw; compare with the registry',
    )
    .option('--host', "scan this host's processes (the default when no --path or --logs is given)")
    .addOption(
      new Option('--pid <pid>', 'only this process (repeatable; implies --host)').argParser(parsePid),
    )
    .option('--path <dir...>', 'scan code and configuration under these directories')
    .option('--logs <file...>', 'read Gatehouse audit exports (JSONL) or proxy/firewall logs')
    .option('--no-traffic', "skip the LLM-gateway and egress traffic in Gatehouse's audit log")
    .option('--no-history', 'do not record this run in the discovery history')
    .option('--offline', 'scan only: no registry comparison, traffic or history (no store or server needed)')
    .option(
      '--register <candidate...>',
      'register these candidates (id or suggested name) as unreviewed agents',
    )
    .option('--team <team>', 'owning team of the agents --register creates')
    .option('--sponsor <email>', 'sponsor of the agents --register creates')
    .action(async (options: DiscoverOptions, command: Command) => {
      const ctx = createCommandContext(io, command);
      await discover(ctx, io, options);
    });
}

async function discover(ctx: CommandContext, io: CliIo, options: DiscoverOptions): Promise<void> {
  const paths = (options.path ?? []).map((path) => resolve(io.cwd, path));
  const logs = (options.logs ?? []).map((file) => resolve(io.cwd, file));
  for (const [given, path] of [
    ...(options.path ?? []).map((given, index) => [given, paths[index] ?? given] as const),
    ...(options.logs ?? []).map((given, index) => [given, logs[index] ?? given] as const),
  ]) {
    if (!existsSync(path))
      throw new GatehouseError('discovery_path_not_found', `\`${given}\` does not exist`);
  }
  const registering = (options.register ?? []).length > 0;
  if (registering && options.offline) {
    throw new GatehouseError('invalid_request', '`--register` needs the registry: drop `--offline`');
  }
  if (registering && (!options.team || !options.sponsor)) {
    throw new GatehouseError('invalid_request', '`--register` needs `--team` and `--sponsor`');
  }
  const pids = options.pid ?? null;
  const scope = {
    host: options.host === true || pids !== null || (paths.length === 0 && logs.length === 0),
    pids,
    paths,
    logs,
    traffic: !options.offline && options.traffic !== false,
  };
  const config = loadConfig({
    configFile: ctx.globals.config,
    dataDir: ctx.globals.dataDir,
    env: io.env,
    cwd: io.cwd,
  }).discovery;
  const progress = createProgressPrinter(io);
  const startedAt = Date.now();

  const scan = (
    registry: RegisteredAgentSnapshot[] | null,
    traffic?: { findings: Finding[]; stats: ScanStats },
  ) =>
    runDiscovery({
      config,
      scope,
      registry,
      ...(traffic ? { traffic } : {}),
      now: startedAt,
      onProgress: progress.update,
    });

  if (options.offline) {
    const report = await scan(null);
    progress.done();
    ctx.print(report, () => renderReport(report));
    return;
  }

  const { report, registrations } = await ctx.withClient(async (client) => {
    const context = await ctx.call<{
      agents: RegisteredAgentSnapshot[];
      traffic: { findings: Finding[]; stats: ScanStats } | null;
    }>(client, 'GET', `/admin/v1/discovery/context?traffic=${scope.traffic}`);
    let report = await scan(context.agents, context.traffic ?? undefined);
    progress.done();
    let registrations: CandidateRegistrationResult[] | undefined;
    if (registering) {
      const result = await registerChosen(ctx, client, report, options);
      report = result.report;
      registrations = result.registrations;
    }
    if (options.history !== false) report = await recordHistory(ctx, client, report, startedAt);
    return { report, registrations };
  });
  ctx.print(registrations ? { ...report, registrations } : report, () => {
    let text = renderReport(report);
    for (const result of registrations ?? []) {
      text += result.agent
        ? `registered ${result.candidateId} as ${result.agent.name} (${result.agent.id}), review status unreviewed; add its key with \`gatehouse agent key add ${result.agent.name} --public-key FILE\`\n`
        : `could not register ${result.candidateId}: ${result.error?.message} (${result.error?.code})\n`;
    }
    return text;
  });
  const failed = registrations?.find((result) => result.error);
  if (failed?.error) {
    throw new GatehouseError(
      failed.error.code as GatehouseError['code'],
      `could not register \`${failed.candidateId}\`: ${failed.error.message}`,
    );
  }
}

async function registerChosen(
  ctx: CommandContext,
  client: AdminClient,
  report: DiscoveryReport,
  options: DiscoverOptions,
): Promise<{ report: DiscoveryReport; registrations: CandidateRegistrationResult[] }> {
  const chosen: Candidate[] = [];
  for (const ref of options.register ?? []) {
    const candidate = report.candidates.find((each) => each.id === ref || each.name === ref);
    if (!candidate) {
      throw new GatehouseError(
        'discovery_candidate_not_found',
        `no candidate \`${ref}\` in this run (use an id or suggested name from the report)`,
      );
    }
    if (candidate.registry.status !== 'unknown') {
      throw new GatehouseError(
        'agent_exists',
        `candidate \`${ref}\` is already registered as \`${candidate.registry.agentName}\``,
      );
    }
    if (!chosen.includes(candidate)) chosen.push(candidate);
  }
  const { results } = await ctx.call<{
    results: (Omit<CandidateRegistrationResult, 'agent'> & {
      agent: { id: string; name: string; state: RegisteredAgentSnapshot['state'] } | null;
    })[];
  }>(client, 'POST', '/admin/v1/discovery/registrations', {
    team: options.team,
    sponsor: options.sponsor,
    candidates: chosen.map(registrationFor),
  });
  const byCandidate = new Map(results.map((result) => [result.candidateId, result]));
  const candidates = report.candidates.map((candidate) => {
    const agent = byCandidate.get(candidate.id)?.agent;
    if (!agent) return candidate;
    return {
      ...candidate,
      registry: {
        status: 'registered' as const,
        agentId: agent.id,
        agentName: agent.name,
        reviewStatus: 'unreviewed' as const,
        state: agent.state,
        matchedBy: 'candidate-label' as const,
      },
    };
  });
  const added = results.filter((result) => result.agent).length;
  const summary = report.summary.registry
    ? {
        ...report.summary,
        registry: { ...report.summary.registry, agents: report.summary.registry.agents + added },
      }
    : report.summary;
  return {
    report: finishReport({ ...report, summary, candidates, registry: null }),
    registrations: results as unknown as CandidateRegistrationResult[],
  };
}

async function recordHistory(
  ctx: CommandContext,
  client: AdminClient,
  report: DiscoveryReport,
  startedAt: number,
): Promise<DiscoveryReport> {
  try {
    const history = await ctx.call<RunHistory>(
      client,
      'POST',
      '/admin/v1/discovery/runs',
      toRunRecord(report, startedAt),
    );
    return applyHistory(report, history);
  } catch (error) {
    // A read-only token still gets its report; only the history misses this run.
    if (isGatehouseError(error) && error.code === 'forbidden') {
      return {
        ...report,
        warnings: [...report.warnings, `this run was not recorded in the history: ${error.message}`],
      };
    }
    throw error;
  }
}

/** Progress on stderr for scans that take a while: nothing for a quick one, then at most a line a second. */
function createProgressPrinter(io: CliIo) {
  const started = Date.now();
  let last = started;
  let printed = false;
  return {
    update(progress: DiscoveryProgress) {
      const now = Date.now();
      if (now - started < 1000 || now - last < 1000) return;
      last = now;
      printed = true;
      const total = progress.total === null ? '' : `/${progress.total}`;
      io.stderr(
        `discover: ${progress.phase} ${progress.done}${total}${progress.current ? ` (${progress.current})` : ''}\n`,
      );
    },
    done() {
      if (printed) io.stderr(`discover: scanned in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    },
  };
}
