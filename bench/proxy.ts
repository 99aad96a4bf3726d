/**
 * MCP gateway overhead, on loopback, in one run:
 *
 * - (a) `direct`: the trivial upstream (bench/proxy/upstream.ts: SDK `McpServer`, stateful sessions, JSON
 *   responses, one `echo` tool) called directly;
 * - (b) `proxy`: through a bare Node forwarding proxy (bench/proxy/forward-proxy.ts: node:http piping to the
 *   upstream over a keep-alive agent), the floor any Node proxy pays;
 * - (c) `gatehouse`: through Gatehouse (bench/proxy/gatehouse.ts) with access-token authentication, a 36-rule
 *   policy with trajectory, taint and limit rules evaluated on every call, a capability minted and redeemed
 *   per call, a vault secret injected as a header, and the decision and outcome audited, on SQLite.
 *
 * Each path is measured at 1 and 50 concurrent clients (one MCP session each, calling `tools/call echo` in a
 * loop after a warm-up), with two clients: the official SDK client and a raw node:http JSON-RPC client (see
 * bench/proxy/clients.ts). The upstream, the proxy and Gatehouse each run in their own process; this process
 * only generates load. CPU time of every process is read from /proc for each cell.
 *
 * The whole matrix runs `--rounds` times (default 3: the machine this was written on is shared and noisy);
 * each cell reports its fastest round (other processes can only slow a round down) and the range over
 * rounds, and the `CPU others` column is what the rest of the machine used during that round.
 *
 * Run with `npm run bench:proxy` (or `npx tsx bench/proxy.ts`); `--quick` for one round of 3 s cells.
 * Other flags:
 * - `--duration <s>` (default 5) and `--warmup <s>` (2) per cell; `--prewarm <s>` (8): each path is driven
 *   with 10 clients before the first round, so V8 has optimised the servers' code; `--rounds <n>`;
 * - `--clients sdk,raw`, `--concurrency 1,50`, `--paths direct,proxy,gatehouse`;
 * - `--sse`: the upstream answers POSTs with SSE streams instead of JSON;
 * - `--data-dir <dir>`: where Gatehouse's SQLite store goes (default: the OS temp directory); `/dev/shm`
 *   takes the disk's fsync out of the picture;
 * - `--profile <dir>`: `--cpu-prof` on the Gatehouse process, written there when it exits (summarise it with
 *   bench/proxy/profile-summary.ts); `--gatehouse-node-args='<flags>'`: more Node/V8 flags for it;
 * - `--json <file>`: every round's results, machine-readable.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createTokenSource, readAgentKey } from '../src/agent-client/index.js';
import { type Child, cpuTimeMs, machineBusyMs, startChild, type UpstreamStats } from './proxy/children.js';
import { type BenchSession, type CallTarget, type ClientKind, openSession } from './proxy/clients.js';
import type { GatehouseInfo } from './proxy/gatehouse.js';
import { BENCH_POLICY_RULES } from './proxy/policy.js';

type PathName = 'direct' | 'proxy' | 'gatehouse';
const PATH_LETTER: Record<PathName, string> = { direct: 'a', proxy: 'b', gatehouse: 'c' };

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string' },
    prewarm: { type: 'string' },
    clients: { type: 'string', default: 'sdk,raw' },
    concurrency: { type: 'string', default: '1,50' },
    paths: { type: 'string', default: 'direct,proxy,gatehouse' },
    sse: { type: 'boolean', default: false },
    profile: { type: 'string' },
    'data-dir': { type: 'string' },
    'gatehouse-node-args': { type: 'string' },
    json: { type: 'string' },
  },
});
const DURATION_MS = Number(flags.duration ?? (flags.quick ? 3 : 5)) * 1000;
const WARMUP_MS = Number(flags.warmup ?? (flags.quick ? 1 : 2)) * 1000;
const ROUNDS = Math.max(1, Number(flags.rounds ?? (flags.quick ? 1 : 3)));
/** Before the first round every path is driven this long (half raw, half SDK, 10 clients): V8 optimises. */
const PREWARM_MS = Number(flags.prewarm ?? (flags.quick ? 2 : 8)) * 1000;
const PREWARM_CLIENTS = 10;
const CLIENTS = flags.clients.split(',') as ClientKind[];
const CONCURRENCY = flags.concurrency.split(',').map(Number);
const PATHS = flags.paths.split(',') as PathName[];

const TARGETS = { callsPerSecondVsProxy: 0.85, callsPerSecondVsDirect: 0.37, addedP50Ms: 1, addedP99Ms: 3 };

interface CellResult {
  client: ClientKind;
  concurrency: number;
  path: PathName;
  calls: number;
  errors: number;
  firstError?: string;
  seconds: number;
  callsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** CPU used during the measured interval, in % of one core. */
  cpu: { loadgen: number; upstream: number | undefined; hop: number | undefined; others: number | undefined };
  /** Lowest and highest calls/s over the rounds (set on the best round's result). */
  range?: [number, number];
}

/**
 * Per cell, the round with the most calls/s, carrying the range over all rounds. Other processes on the
 * machine can only slow a round down, so the fastest round is the one closest to an undisturbed run.
 */
function bestRounds(all: CellResult[]): CellResult[] {
  const cells = new Map<string, CellResult[]>();
  for (const result of all) {
    const key = `${result.client}/${result.concurrency}/${result.path}`;
    cells.set(key, [...(cells.get(key) ?? []), result]);
  }
  return [...cells.values()].map((rounds) => {
    const sorted = [...rounds].sort((x, y) => x.callsPerSecond - y.callsPerSecond);
    const best = sorted.at(-1) as CellResult;
    return {
      ...best,
      errors: rounds.reduce((sum, r) => sum + r.errors, 0),
      range: [sorted[0]?.callsPerSecond ?? 0, sorted.at(-1)?.callsPerSecond ?? 0],
    };
  });
}

const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (value: number | undefined) => (value === undefined ? 'n/a' : `${fmt(value)}%`);

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function upstreamStats(url: string): Promise<UpstreamStats> {
  return new Promise((resolveStats, reject) => {
    const request = httpRequest(new URL('/stats', url), (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolveStats(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

/** Calls in a loop on every session until `deadline`; latencies (ms) into `sink` when given. */
async function drive(
  sessions: BenchSession[],
  deadline: number,
  sink: number[] | undefined,
  errors: { count: number; first?: string },
): Promise<void> {
  await Promise.all(
    sessions.map(async (session) => {
      while (performance.now() < deadline) {
        const started = performance.now();
        try {
          await session.call();
          sink?.push(performance.now() - started);
        } catch (error) {
          errors.count += 1;
          errors.first ??= error instanceof Error ? error.message : String(error);
          if (errors.count > 1000) return;
        }
      }
    }),
  );
}

async function runCell(
  client: ClientKind,
  concurrency: number,
  path: PathName,
  target: CallTarget,
  pids: { upstream: number; hop: number | undefined },
): Promise<CellResult> {
  const sessions = await Promise.all(Array.from({ length: concurrency }, () => openSession(client, target)));
  try {
    const warmupErrors = { count: 0 } as { count: number; first?: string };
    await drive(sessions, performance.now() + WARMUP_MS, undefined, warmupErrors);
    const errors = { count: 0 } as { count: number; first?: string };
    const latencies: number[] = [];
    const cpuBefore = {
      loadgen: process.cpuUsage(),
      upstream: cpuTimeMs(pids.upstream),
      hop: pids.hop === undefined ? undefined : cpuTimeMs(pids.hop),
      machine: machineBusyMs(),
    };
    const started = performance.now();
    await drive(sessions, started + DURATION_MS, latencies, errors);
    const elapsedMs = performance.now() - started;
    const loadgen = process.cpuUsage(cpuBefore.loadgen);
    const delta = (pid: number | undefined, before: number | undefined) => {
      const after = pid === undefined ? undefined : cpuTimeMs(pid);
      return after === undefined || before === undefined ? undefined : ((after - before) / elapsedMs) * 100;
    };
    const machine = machineBusyMs();
    const cpuOf = {
      loadgen: ((loadgen.user + loadgen.system) / 1000 / elapsedMs) * 100,
      upstream: delta(pids.upstream, cpuBefore.upstream),
      hop: delta(pids.hop, cpuBefore.hop),
    };
    // What the rest of the machine used meanwhile: anything but these processes competes for the two cores.
    const others =
      machine === undefined || cpuBefore.machine === undefined || cpuOf.upstream === undefined
        ? undefined
        : Math.max(
            0,
            ((machine - cpuBefore.machine) / elapsedMs) * 100 -
              cpuOf.loadgen -
              cpuOf.upstream -
              (cpuOf.hop ?? 0),
          );
    const sorted = Float64Array.from(latencies).sort();
    const total = latencies.reduce((sum, value) => sum + value, 0);
    const errorCount = warmupErrors.count + errors.count;
    return {
      client,
      concurrency,
      path,
      calls: latencies.length,
      errors: errorCount,
      ...(errorCount > 0 ? { firstError: errors.first ?? warmupErrors.first } : {}),
      seconds: elapsedMs / 1000,
      callsPerSecond: latencies.length / (elapsedMs / 1000),
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      meanMs: total / Math.max(1, latencies.length),
      cpu: { ...cpuOf, others },
    };
  } finally {
    await Promise.all(sessions.map((session) => session.close().catch(() => {})));
  }
}

function printTable(results: CellResult[]): void {
  const header = [
    'client',
    'clients',
    'path',
    'calls/s',
    ...(ROUNDS > 1 ? ['range'] : []),
    'p50 ms',
    'p99 ms',
    'mean ms',
    'errors',
    'CPU load gen',
    'CPU upstream',
    'CPU proxy/gatehouse',
    'its CPU/call',
    'CPU others',
  ];
  const rows = results.map((r) => [
    r.client,
    String(r.concurrency),
    `(${PATH_LETTER[r.path]}) ${r.path}`,
    fmt(r.callsPerSecond),
    ...(ROUNDS > 1 ? [r.range ? `${fmt(r.range[0])} – ${fmt(r.range[1])}` : ''] : []),
    fmt(r.p50Ms, 3),
    fmt(r.p99Ms, 3),
    fmt(r.meanMs, 3),
    fmt(r.errors),
    pct(r.cpu.loadgen),
    pct(r.cpu.upstream),
    r.path === 'direct' ? '-' : pct(r.cpu.hop),
    r.path === 'direct' || r.cpu.hop === undefined || r.calls === 0
      ? '-'
      : `${fmt(((r.cpu.hop / 100) * r.seconds * 1e6) / r.calls)} µs`,
    pct(r.cpu.others),
  ]);
  printRows(
    header,
    rows,
    header.map((_, i) => i).filter((i) => i >= 3),
  );
}

function printRows(header: string[], rows: string[][], rightAligned: number[]): void {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (rightAligned.includes(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  console.log(line(header));
  console.log(
    `| ${widths.map((width, i) => (rightAligned.includes(i) ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width))).join(' | ')} |`,
  );
  for (const row of rows) console.log(line(row));
}

const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

function printSummary(results: CellResult[]): void {
  const find = (client: ClientKind, concurrency: number, path: PathName) =>
    results.find((r) => r.client === client && r.concurrency === concurrency && r.path === path);
  const ratioRows: string[][] = [];
  const verdicts: string[] = [];
  for (const client of CLIENTS) {
    for (const concurrency of CONCURRENCY) {
      const a = find(client, concurrency, 'direct');
      const b = find(client, concurrency, 'proxy');
      const c = find(client, concurrency, 'gatehouse');
      const ratio = (x: CellResult | undefined, y: CellResult | undefined) =>
        x && y ? fmt(x.callsPerSecond / y.callsPerSecond, 2) : 'n/a';
      ratioRows.push([client, String(concurrency), ratio(b, a), ratio(c, a), ratio(c, b)]);
      if (c && a && b && concurrency === Math.max(...CONCURRENCY)) {
        const ca = c.callsPerSecond / a.callsPerSecond;
        const cb = c.callsPerSecond / b.callsPerSecond;
        verdicts.push(
          `${client}, ${concurrency} clients: c/b ${fmt(cb, 2)} (target >= ${TARGETS.callsPerSecondVsProxy}: ` +
            `${verdict(cb >= TARGETS.callsPerSecondVsProxy)}), c/a ${fmt(ca, 2)} (target >= ` +
            `${TARGETS.callsPerSecondVsDirect}: ${verdict(ca >= TARGETS.callsPerSecondVsDirect)})`,
        );
      }
      if (c && a && concurrency === 1) {
        const p50 = c.p50Ms - a.p50Ms;
        const p99 = c.p99Ms - a.p99Ms;
        const pb = b
          ? ` (over the bare proxy: p50 +${fmt(c.p50Ms - b.p50Ms, 3)} ms, p99 +${fmt(c.p99Ms - b.p99Ms, 3)} ms)`
          : '';
        verdicts.push(
          `${client}, 1 client: added latency c - a: p50 +${fmt(p50, 3)} ms (target < ${TARGETS.addedP50Ms} ms: ` +
            `${verdict(p50 < TARGETS.addedP50Ms)}), p99 +${fmt(p99, 3)} ms (target < ${TARGETS.addedP99Ms} ms: ` +
            `${verdict(p99 < TARGETS.addedP99Ms)})${pb}`,
        );
      }
    }
  }
  console.log('\nThroughput ratios (calls/s):');
  printRows(['client', 'clients', 'b/a', 'c/a', 'c/b'], ratioRows, [2, 3, 4]);
  console.log('\nTargets (throughput at the highest concurrency, latency at one client):');
  for (const line of verdicts) console.log(`- ${line}`);
}

// -----------------------------------------------------------------------------------------------------------

const here = resolve(import.meta.dirname, 'proxy');
const upstreamKey = `bench-key-${randomBytes(12).toString('hex')}`;
const children: Child<unknown>[] = [];
const stopAll = () => Promise.all(children.map((child) => child.stop()));
// MaxListenersExceededWarning from this process's SDK clients: counted and reported at the end, not printed.
let listenerWarnings = 0;
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'MaxListenersExceededWarning') listenerWarnings += 1;
  else process.stderr.write(`${warning.name}: ${warning.message}\n`);
});
process.on('SIGINT', () => {
  void stopAll().finally(() => process.exit(130));
});

try {
  const upstream = await startChild<{ url: string; mode: string }>('upstream', `${here}/upstream.ts`, {
    args: flags.sse ? ['--sse'] : [],
    env: { BENCH_UPSTREAM_KEY: upstreamKey },
  });
  children.push(upstream);
  const proxy = PATHS.includes('proxy')
    ? await startChild<{ url: string }>('proxy', `${here}/forward-proxy.ts`, {
        env: { BENCH_UPSTREAM: upstream.info.url },
      })
    : undefined;
  if (proxy) children.push(proxy);
  const gatehouse = PATHS.includes('gatehouse')
    ? await startChild<GatehouseInfo>('gatehouse', `${here}/gatehouse.ts`, {
        env: {
          BENCH_UPSTREAM: upstream.info.url,
          BENCH_UPSTREAM_KEY: upstreamKey,
          ...(flags['data-dir'] ? { BENCH_DATA_DIR: resolve(flags['data-dir']) } : {}),
        },
        nodeArgs: [
          ...(flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(flags.profile)}`] : []),
          ...(flags['gatehouse-node-args']?.split(' ').filter(Boolean) ?? []),
        ],
      })
    : undefined;
  if (gatehouse) children.push(gatehouse);

  const targets: Partial<Record<PathName, { target: CallTarget; hop: number | undefined }>> = {
    direct: { target: { url: upstream.info.url, tool: 'echo', headers: {} }, hop: undefined },
  };
  if (proxy) targets.proxy = { target: { url: proxy.info.url, tool: 'echo', headers: {} }, hop: proxy.pid };
  if (gatehouse) {
    const tokens = createTokenSource({
      server: new URL(gatehouse.info.url).origin,
      agentId: gatehouse.info.agentId,
      key: await readAgentKey(gatehouse.info.keyFile),
    });
    targets.gatehouse = {
      target: {
        url: gatehouse.info.url,
        tool: 'bench.echo',
        headers: { authorization: `Bearer ${await tokens.token()}` },
      },
      hop: gatehouse.pid,
    };
  }

  const cpu = cpus();
  console.log('MCP gateway (proxy) benchmark: bench/proxy.ts');
  console.log(
    `machine: node ${process.version}, ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} logical cores, ` +
      `${fmt(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()} ${arch()}, load ${loadavg()
        .map((load) => fmt(load, 2))
        .join(' ')}`,
  );
  console.log(
    `setup: upstream = SDK McpServer, stateful sessions, ${upstream.info.mode === 'sse' ? 'SSE' : 'JSON'} ` +
      `responses; proxy = node:http pipe, keep-alive agent; gatehouse = SQLite (WAL, synchronous=FULL) in ` +
      `${flags['data-dir'] ? resolve(flags['data-dir']) : tmpdir()}, ` +
      `${BENCH_POLICY_RULES}-rule policy, capability per call, vault header, audited; separate processes for ` +
      `upstream, proxy, Gatehouse and this load generator; ${DURATION_MS / 1000} s per cell after ` +
      `${WARMUP_MS / 1000} s warm-up (and ${PREWARM_MS / 1000} s per path before the first round), one MCP ` +
      `session per concurrent client; ${ROUNDS} round(s), each cell ` +
      `shown from its fastest round\n`,
  );

  const all: CellResult[] = [];
  let gatehouseCalls = 0;
  const before = gatehouse ? await upstreamStats(upstream.info.url) : undefined;
  for (const path of PATHS) {
    const entry = targets[path];
    if (!entry || PREWARM_MS === 0) continue;
    process.stderr.write(`  pre-warming ${path} for ${PREWARM_MS / 1000} s\n`);
    for (const client of ['raw', 'sdk'] as const) {
      const sessions = await Promise.all(
        Array.from({ length: PREWARM_CLIENTS }, () => openSession(client, entry.target)),
      );
      const errors = { count: 0 } as { count: number; first?: string };
      await drive(sessions, performance.now() + PREWARM_MS / 2, undefined, errors);
      await Promise.all(sessions.map((session) => session.close().catch(() => {})));
      if (errors.count > 0)
        process.stderr.write(`  pre-warm ${path}/${client}: ${errors.count} errors (${errors.first})\n`);
    }
  }
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const client of CLIENTS) {
      for (const concurrency of CONCURRENCY) {
        for (const path of PATHS) {
          const entry = targets[path];
          if (!entry) continue;
          process.stderr.write(`  round ${round}: ${client} x${concurrency} ${path} ...`);
          const result = await runCell(client, concurrency, path, entry.target, {
            upstream: upstream.pid,
            hop: entry.hop,
          });
          process.stderr.write(
            ` ${fmt(result.callsPerSecond)} calls/s, p50 ${fmt(result.p50Ms, 3)} ms, p99 ${fmt(result.p99Ms, 3)} ms` +
              `${result.errors ? `, ${result.errors} errors (${result.firstError})` : ''}\n`,
          );
          all.push(result);
        }
      }
    }
  }
  const results = bestRounds(all);
  console.log('');
  printTable(results);
  printSummary(results);

  if (gatehouse && before) {
    // Every call that went through Gatehouse reached the upstream with the vault secret and a capability.
    const after = await upstreamStats(upstream.info.url);
    gatehouseCalls = after.withCapability - before.withCapability;
    const withKey = after.withKey - before.withKey;
    console.log(
      `\nupstream check: ${fmt(gatehouseCalls)} echo calls carried a capability header and ${fmt(withKey)} the ` +
        `injected vault header (only calls through Gatehouse carry either)`,
    );
  }
  // The SDK's HTTP client transport hands one AbortSignal to every fetch, and undici leaves a listener on it per
  // request until GC: past 1,500 Node warns on every new one. Counted here rather than printed.
  const warned = [
    ['this load generator (SDK clients)', listenerWarnings],
    ...children.map((child) => [child.name, child.listenerWarnings()] as const),
  ].filter(([, count]) => Number(count) > 0);
  if (warned.length > 0) {
    console.log(
      `MaxListenersExceededWarning (abort listeners piling up on a shared AbortSignal), not printed: ${warned
        .map(([name, count]) => `${name} ${fmt(Number(count))}`)
        .join(', ')}`,
    );
  }
  if (flags.json) {
    await writeFile(
      flags.json,
      `${JSON.stringify({ node: process.version, cpu: cpu[0]?.model, cores: cpu.length, results: all }, null, 2)}\n`,
    );
  }
} finally {
  await stopAll();
  if (flags.profile) console.log(`\nGatehouse CPU profile written to ${resolve(flags.profile)}`);
}
