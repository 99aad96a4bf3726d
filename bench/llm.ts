/**
 * LLM gateway overhead, on loopback, in one run: the stand-in provider (test/llm/stand-in-provider.ts, real
 * OpenAI wire format) called three ways, one request at a time:
 *
 * - `direct`: straight to the stand-in, with the provider key;
 * - `hop`: through a bare Node forwarding hop (node:http piping to the stand-in over a keep-alive agent), the
 *   floor any Node proxy pays;
 * - `gatehouse`: through the LLM gateway with the agent's access token: token verified, manifest and budget
 *   checked (the agent has a daily budget, so the usage table is read on every request), the policy decided
 *   with the session's history and the decision audited durably before forwarding, the key taken from the
 *   vault, the response relayed and metered, its usage row and audit entry written after it ends. SQLite,
 *   synchronous=FULL (the default).
 *
 * Measured: latency of a non-streaming chat completion (request sent to last byte read), and for a streaming
 * one (10 events, the stand-in pausing `--event-delay` ms before each) the time to the first byte and to the
 * last. If the gateway buffered a stream, its time to first byte would grow to the whole stream's duration.
 * Paths are interleaved in batches, so drift on a noisy machine hits all three alike. The stand-in, the hop and
 * Gatehouse each run in their own process (this same file, with `--role`); this process only generates load.
 *
 * `npm run bench:llm` (or `npx tsx bench/llm.ts`). Flags: `--requests <n>` non-streaming requests per path
 * (default 3000), `--streams <n>` streaming requests per path (400), `--event-delay <ms>` (2), `--batch <n>`
 * (100), `--json <file>`, `--profile <dir>` (`--cpu-prof` on the Gatehouse process; summarise it with
 * bench/proxy/profile-summary.ts). BENCH_DATA_DIR puts Gatehouse's store elsewhere (default: the OS temp dir).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, realpath, rm, writeFile, writeFile as writeFileAsync } from 'node:fs/promises';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTokenSource, readAgentKey } from '../src/agent-client/index.js';
import { parseConfig } from '../src/config/index.js';
import { findFreePort } from '../src/lib/free-port.js';
import { createTeam, createUser, registerAgent, reviewAgent } from '../src/registry/index.js';
import { startServer } from '../src/server/start-server.js';
import { startStandInProvider } from '../test/llm/stand-in-provider.js';
import { announceReady, type Child, cpuTimeMs, startChild } from './proxy/children.js';

const { values: flags } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    requests: { type: 'string', default: '3000' },
    streams: { type: 'string', default: '400' },
    'event-delay': { type: 'string', default: '2' },
    batch: { type: 'string', default: '100' },
    json: { type: 'string' },
    profile: { type: 'string' },
  },
});
const SELF = fileURLToPath(import.meta.url);
const POLICY = `
rules:
  - id: chat-models
    tool: llm.openai.chat_completions
    args: { model: { one_of: [gpt-test, gpt-4o-mini] } }
    effect: allow
  - id: cap-max-tokens
    tool: "llm.*"
    args: { max_tokens: { exclusive_min: 4096 } }
    effect: deny
  - id: no-shell-tools
    tool: "llm.*"
    condition: '"shell" in call.args.tools'
    effect: deny
`;

type PathName = 'direct' | 'hop' | 'gatehouse';
const PATHS: PathName[] = ['direct', 'hop', 'gatehouse'];

interface StandInInfo {
  url: string;
  openaiKey: string;
}

async function runGatehouse() {
  const root = await realpath(
    await mkdtemp(join(process.env.BENCH_DATA_DIR ?? tmpdir(), 'gatehouse-llm-bench-')),
  );
  await mkdir(join(root, 'policy'));
  await writeFile(join(root, 'policy', 'policy.yaml'), POLICY);
  const port = await findFreePort();
  const issuer = `http://127.0.0.1:${port}`;
  const config = parseConfig({
    dataDir: join(root, 'data'),
    masterKey: randomBytes(32).toString('base64'),
    server: { port, publicUrl: issuer, logLevel: 'silent' },
    tokens: { accessTokenTtl: '2h' },
    policy: { path: join(root, 'policy'), watch: false },
    llm: {
      providers: [
        {
          name: 'openai',
          kind: 'openai',
          baseUrl: `${process.env.BENCH_TARGET}/openai/v1`,
          apiKeySecret: 'openai-key',
        },
      ],
      budgets: { agents: { 'bench-agent': { daily: 1_000_000_000 } } },
    },
  });
  const server = await startServer(config);
  const { gatehouse } = server;
  const setup = 'bench:setup';
  await gatehouse.vault.set(
    { name: 'openai-key', value: process.env.BENCH_PROVIDER_KEY ?? '', upstream: 'openai' },
    setup,
  );
  await createTeam(gatehouse, setup, { name: 'bench' });
  await createUser(gatehouse, setup, { email: 'sponsor@bench.test', teams: ['bench'] });
  await createUser(gatehouse, setup, { email: 'reviewer@bench.test' });
  const registered = await registerAgent(gatehouse, setup, {
    name: 'bench-agent',
    team: 'bench',
    sponsor: 'sponsor@bench.test',
    manifest: { description: 'bench', tools: [], egressHosts: [], llmProviders: ['openai'], dataClasses: [] },
  });
  await reviewAgent(gatehouse, { actor: setup, userId: null }, registered.agent.id, {
    decision: 'approve',
    reviewer: 'reviewer@bench.test',
  });
  const keyFile = join(root, 'agent.jwk');
  await writeFile(keyFile, JSON.stringify(registered.privateKey?.jwk), { mode: 0o600 });
  announceReady({ url: issuer, agentId: registered.agent.id, keyFile });
  process.once('SIGTERM', () => {
    void (async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
      process.exit(0);
    })();
  });
}

interface Sample {
  /** Request sent to first body byte, ms. */
  firstByte: number;
  /** Request sent to the end of the body, ms. */
  total: number;
}

interface Target {
  url: string;
  headers: OutgoingHttpHeaders;
}

const clientAgent = new Agent({ keepAlive: true, maxSockets: 1 });

function timedRequest(
  target: Target,
  body: Buffer,
  check: (status: number, headers: IncomingHttpHeaders) => void,
): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstByte = 0;
    const request = httpRequest(
      target.url,
      {
        method: 'POST',
        agent: clientAgent,
        headers: { ...target.headers, 'content-type': 'application/json', 'content-length': body.length },
      },
      (response) => {
        check(response.statusCode ?? 0, response.headers);
        response.on('data', () => {
          if (firstByte === 0) firstByte = performance.now() - started;
        });
        response.on('end', () => resolve({ firstByte, total: performance.now() - started }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function summarize(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? 0,
  };
}

async function main() {
  const requests = Number(flags.requests);
  const streams = Number(flags.streams);
  const batch = Number(flags.batch);
  const children: Child<unknown>[] = [];
  try {
    const standIn = await startChild<StandInInfo>('stand-in', SELF, {
      args: ['--role', 'stand-in', '--event-delay', String(flags['event-delay'])],
    });
    children.push(standIn);
    const hop = await startChild<{ url: string }>('hop', SELF, {
      args: ['--role', 'hop'],
      env: { BENCH_TARGET: standIn.info.url },
    });
    children.push(hop);
    const gatehouse = await startChild<{ url: string; agentId: string; keyFile: string }>('gatehouse', SELF, {
      args: ['--role', 'gatehouse'],
      ...(flags.profile ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', flags.profile] } : {}),
      env: { BENCH_TARGET: standIn.info.url, BENCH_PROVIDER_KEY: standIn.info.openaiKey },
    });
    children.push(gatehouse);
    const tokens = createTokenSource({
      server: gatehouse.info.url,
      agentId: gatehouse.info.agentId,
      key: await readAgentKey(gatehouse.info.keyFile),
    });
    const token = await tokens.token();
    const providerAuth = { authorization: `Bearer ${standIn.info.openaiKey}` };
    const targets: Record<PathName, (path: string) => Target> = {
      direct: (path) => ({ url: `${standIn.info.url}/openai/v1/${path}`, headers: providerAuth }),
      hop: (path) => ({ url: `${hop.info.url}/openai/v1/${path}`, headers: providerAuth }),
      gatehouse: (path) => ({
        url: `${gatehouse.info.url}/llm/openai/v1/${path}`,
        headers: { authorization: `Bearer ${token}` },
      }),
    };
    const messages = [{ role: 'user', content: 'Summarize the quarterly numbers in one sentence.' }];
    const plain = Buffer.from(JSON.stringify({ model: 'gpt-test', messages, max_tokens: 64 }));
    const streamed = Buffer.from(
      JSON.stringify({
        model: 'gpt-test',
        messages,
        max_tokens: 64,
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    const expectOk = (status: number) => {
      if (status !== 200) throw new Error(`unexpected status ${status}`);
    };

    // CPU time of the process each path adds (none for direct), spent while that path's batches ran.
    const processOf: Record<PathName, number | undefined> = {
      direct: undefined,
      hop: hop.pid,
      gatehouse: gatehouse.pid,
    };
    const cpu: Record<PathName, { ms: number; requests: number }> = {
      direct: { ms: 0, requests: 0 },
      hop: { ms: 0, requests: 0 },
      gatehouse: { ms: 0, requests: 0 },
    };
    const run = async (kind: 'plain' | 'stream', count: number) => {
      const samples: Record<PathName, Sample[]> = { direct: [], hop: [], gatehouse: [] };
      const body = kind === 'plain' ? plain : streamed;
      // Warm-up: connections, JIT, SQLite pages.
      for (const path of PATHS) {
        for (let i = 0; i < Math.min(200, count / 5); i += 1)
          await timedRequest(targets[path]('chat/completions'), body, expectOk);
      }
      for (let done = 0; done < count; done += batch) {
        for (const path of PATHS) {
          const pid = processOf[path];
          const before = pid === undefined ? 0 : (cpuTimeMs(pid) ?? 0);
          const size = Math.min(batch, count - done);
          for (let i = 0; i < size; i += 1) {
            samples[path].push(await timedRequest(targets[path]('chat/completions'), body, expectOk));
          }
          if (kind === 'plain' && pid !== undefined) {
            cpu[path].ms += (cpuTimeMs(pid) ?? 0) - before;
            cpu[path].requests += size;
          }
        }
      }
      return samples;
    };

    process.stderr.write(`non-streaming: ${requests} requests per path...\n`);
    const plainSamples = await run('plain', requests);
    process.stderr.write(`streaming: ${streams} requests per path...\n`);
    const streamSamples = await run('stream', streams);

    const results = Object.fromEntries(
      PATHS.map((path) => [
        path,
        {
          plain: summarize(plainSamples[path].map((sample) => sample.total)),
          streamFirstByte: summarize(streamSamples[path].map((sample) => sample.firstByte)),
          streamTotal: summarize(streamSamples[path].map((sample) => sample.total)),
        },
      ]),
    ) as Record<
      PathName,
      {
        plain: ReturnType<typeof summarize>;
        streamFirstByte: ReturnType<typeof summarize>;
        streamTotal: ReturnType<typeof summarize>;
      }
    >;

    const f = (value: number) => value.toFixed(2).padStart(7);
    const lines = [
      `LLM gateway overhead (${cpus().length} CPUs, ${cpus()[0]?.model ?? '?'}, Node ${process.version})`,
      `non-streaming: ${requests} requests per path; streaming: ${streams} per path, 10 events, ${flags['event-delay']} ms before each`,
      '',
      'path        plain p50  plain p99  | TTFB p50  TTFB p99 | stream end p50  end p99   (ms)',
    ];
    for (const path of PATHS) {
      const r = results[path];
      lines.push(
        `${path.padEnd(10)} ${f(r.plain.p50)}    ${f(r.plain.p99)}   | ${f(r.streamFirstByte.p50)}  ${f(r.streamFirstByte.p99)} | ${f(r.streamTotal.p50)}      ${f(r.streamTotal.p99)}`,
      );
    }
    const added = (from: PathName) => {
      const g = results.gatehouse;
      const b = results[from];
      return `${`+ vs ${from}`.padEnd(10)} ${f(g.plain.p50 - b.plain.p50)}    ${f(g.plain.p99 - b.plain.p99)}   | ${f(
        g.streamFirstByte.p50 - b.streamFirstByte.p50,
      )}  ${f(g.streamFirstByte.p99 - b.streamFirstByte.p99)} | ${f(g.streamTotal.p50 - b.streamTotal.p50)}      ${f(
        g.streamTotal.p99 - b.streamTotal.p99,
      )}`;
    };
    lines.push(added('direct'), added('hop'));
    const perRequest = (path: PathName) => cpu[path].ms / Math.max(1, cpu[path].requests);
    lines.push(
      '',
      `CPU time per non-streaming request: hop process ${perRequest('hop').toFixed(3)} ms, ` +
        `gatehouse process ${perRequest('gatehouse').toFixed(3)} ms`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
    if (flags.json) {
      await writeFileAsync(
        flags.json,
        JSON.stringify(
          { flags, results, cpuMsPerRequest: { hop: perRequest('hop'), gatehouse: perRequest('gatehouse') } },
          null,
          2,
        ),
      );
    }
  } finally {
    for (const child of children.reverse()) await child.stop();
    clientAgent.destroy();
  }
}

if (flags.role === 'stand-in') {
  const provider = await startStandInProvider({ eventDelayMs: Number(flags['event-delay']) });
  announceReady({ url: provider.url, openaiKey: provider.openaiKey } satisfies StandInInfo);
  process.once('SIGTERM', () => void provider.close().then(() => process.exit(0)));
} else if (flags.role === 'hop') {
  const target = new URL(process.env.BENCH_TARGET ?? '');
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const server = createServer((incoming, outgoing) => {
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
        agent,
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  announceReady({ url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
} else if (flags.role === 'gatehouse') {
  await runGatehouse();
} else {
  await main();
}
