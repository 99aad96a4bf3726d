/**
 * Policy decision speed: `decide()` on bundles of 10, 1,000 and 10,000 generated rules with a 100-call
 * session history, the cost of folding a call into session state (`recordCall`), and the static part of the
 * language (principal, tool, arguments) against the same rules written in Cedar and evaluated by
 * `@cedar-policy/cedar-wasm`. Everything runs on the main thread, one core. Run with `npm run bench:decide`
 * (or `npx tsx bench/decide.ts`); `--quick` for a short run with fewer iterations.
 *
 * The bundles, session histories and requests come from a seeded generator (bench/support/policy-corpus.ts),
 * so every run decides the same calls. The Cedar comparison first asserts that both engines agree on every
 * request (allow/flag = permit, deny = deny, and the same deciding rules) and exits 1 with the request if
 * they do not.
 */
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import {
  type CompiledBundle,
  compileBundle,
  type Decision,
  type DecisionCode,
  type DecisionInput,
  decide,
  emptySessionState,
  type RecordedCall,
  recordCall,
  type SessionState,
} from '../src/policy/index.js';
import {
  buildCorpus,
  buildStaticCorpus,
  cedarEntities,
  createRng,
  type PreparedCall,
  prepareCalls,
  sessionTools,
  type ToolInfo,
} from './support/policy-corpus.js';

const QUICK = process.argv.includes('--quick');
const SIZES = [10, 1_000, 10_000];
const STATIC_SIZES = [200, 1_000];
const HISTORY = 100;
const SESSIONS = 32;
/** Prepared inputs per bundle; `decide` rotates through them so no one call's branch pattern is learned. */
const INPUTS = 1_000;
const WARMUP = QUICK ? 20_000 : 100_000;
const ITERATIONS = QUICK ? 50_000 : 300_000;
const RECORD_ITERATIONS = QUICK ? 20_000 : 100_000;
/** Cedar takes 0.5–3 ms a call here (15–90 ms reparsing the text), so each static request runs once. */
const STATIC_REQUESTS = QUICK ? 100 : 300;
const SEED = 20_261_123;
/** Session clock: calls two seconds apart, decided one second after the last remembered call. */
const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);

const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const us = (ns: number, digits = 2) => fmt(ns / 1000, digits);

let sink = 0;

// -----------------------------------------------------------------------------------------------------------
// Timing
//
// Latency is timed around EACH call with `process.hrtime.bigint()`, not per block of calls: a block's average
// hides exactly the slow calls p99 is about (a cache miss, a scavenge), so blocks would understate the tail.
// The price is the timer itself, ~tens of ns a pair here, measured at start-up and printed with the results;
// it is included in every per-call figure, not subtracted. Throughput (decisions/s, and the mean it implies)
// comes from a separate untimed loop over the same inputs, so it carries no timer overhead, and is counted in
// CPU time (`process.cpuUsage`), not wall time: on a shared machine wall time also counts the time the thread
// waited for a core. CPU time covers all of the process's threads, V8's GC and compiler helpers included, so
// it can only overstate the main thread's cost. The wall-clock mean is printed next to it; where the two
// differ, other processes were competing for the cores, and the per-call percentiles (wall clock) are
// inflated too.

interface Latency {
  mean: number;
  /** CPU time per call over the same loop (see above). */
  cpuMean: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

function summarize(samples: Float64Array, cpuMean = Number.NaN): Latency {
  samples.sort();
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  let total = 0;
  for (const sample of samples) total += sample;
  return {
    mean: total / samples.length,
    cpuMean,
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: samples[samples.length - 1] ?? 0,
  };
}

function timerOverheadNs(): number {
  const samples = new Float64Array(200_000);
  for (let index = 0; index < samples.length; index += 1) {
    const start = process.hrtime.bigint();
    samples[index] = Number(process.hrtime.bigint() - start);
  }
  return summarize(samples).p50;
}

/** Times `fn` on each input in turn, call by call; `warmup` untimed calls first. */
function timeEach<T>(
  inputs: readonly T[],
  iterations: number,
  warmup: number,
  fn: (input: T) => number,
): Latency {
  for (let index = 0; index < warmup; index += 1) sink += fn(inputs[index % inputs.length] as T);
  const samples = new Float64Array(iterations);
  const cpu = process.cpuUsage();
  for (let index = 0; index < iterations; index += 1) {
    const input = inputs[index % inputs.length] as T;
    const start = process.hrtime.bigint();
    sink += fn(input);
    samples[index] = Number(process.hrtime.bigint() - start);
  }
  return summarize(samples, cpuNsPerCall(cpu, iterations));
}

function cpuNsPerCall(since: NodeJS.CpuUsage, calls: number): number {
  const used = process.cpuUsage(since);
  return ((used.user + used.system) * 1000) / calls;
}

interface Throughput {
  /** CPU ns per call. */
  cpu: number;
  /** Wall-clock ns per call. */
  wall: number;
}

/** Mean cost per call over an untimed loop. */
function throughput<T>(inputs: readonly T[], iterations: number, fn: (input: T) => number): Throughput {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let index = 0; index < iterations; index += 1) sink += fn(inputs[index % inputs.length] as T);
  const wall = Number(process.hrtime.bigint() - start) / iterations;
  return { cpu: cpuNsPerCall(cpu, iterations), wall };
}

// -----------------------------------------------------------------------------------------------------------
// Sessions and inputs

interface Session {
  state: SessionState;
  now: number;
  /** The state before the last call, and that call: what `recordCall` is timed on. */
  beforeLast: SessionState;
  last: RecordedCall;
}

/**
 * A session of HISTORY calls folded with `recordCall`. Outcomes are drawn (85% allowed) rather than decided,
 * so the history looks like a working agent's (mostly allowed calls, tainted by what they read, counted)
 * whatever the random tools would have got from the bundle.
 */
function buildSession(bundle: CompiledBundle, tools: readonly string[], seed: number): Session {
  const rng = createRng(seed);
  let state = emptySessionState();
  let beforeLast = state;
  let last: RecordedCall | undefined;
  tools.forEach((tool, index) => {
    beforeLast = state;
    last = { tool, outcome: rng() < 0.85 ? 'allowed' : 'denied', at: T0 + index * 2_000 };
    state = recordCall(bundle, state, last);
  });
  if (!last) throw new Error('empty session');
  return { state, now: T0 + tools.length * 2_000 + 1_000, beforeLast, last };
}

function decisionInput(call: PreparedCall, session: Session, index: number): DecisionInput {
  const { principal } = call.agent;
  return {
    principal,
    call: { tool: call.tool, args: call.args },
    session: { id: `ses_${index % SESSIONS}`, scope: { customer: 'cus_1' }, state: session.state },
    user: { id: 'usr_alice', email: 'alice@corp.example' },
    chain: [
      { sub: 'usr_alice', kind: 'user' },
      { sub: principal.id, kind: 'agent' },
    ],
    now: session.now,
  };
}

const CODES: DecisionCode[] = [
  'allowed',
  'flagged',
  'approval_required',
  'policy_denied',
  'no_matching_rule',
  'session_terminated',
  'policy_eval_error',
];

function tally(decisions: readonly Decision[]): Record<DecisionCode, number> {
  const counts = Object.fromEntries(CODES.map((code) => [code, 0])) as Record<DecisionCode, number>;
  for (const decision of decisions) counts[decision.code] += 1;
  return counts;
}

const percent = (part: number, whole: number) => `${fmt((100 * part) / whole, 0)}%`;

// -----------------------------------------------------------------------------------------------------------
// decide() with history

interface RecordResult {
  label: string;
  /** Distinct tools and labels counted in the sessions' hour buckets, on average. */
  distinctTools: number;
  distinctLabels: number;
  mean: Throughput;
  latency: Latency;
}

interface HistoryResult {
  rules: number;
  tools: number;
  agents: number;
  compileMs: number;
  /** Rules whose tool matcher accepts the call's tool (what `decide` walks), median and 90th percentile. */
  perTool: [number, number];
  mean: Throughput;
  latency: Latency;
  codes: Record<DecisionCode, number>;
  records: RecordResult[];
}

const average = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/** Times `recordCall` folding each session's last call into the state before it. */
function benchRecord(bundle: CompiledBundle, sessions: readonly Session[], label: string): RecordResult {
  const folds = sessions.map((session) => ({ state: session.beforeLast, call: session.last }));
  const fold = (pair: (typeof folds)[number]) => recordCall(bundle, pair.state, pair.call).history.length;
  const latency = timeEach(folds, RECORD_ITERATIONS, RECORD_ITERATIONS / 2, fold);
  return {
    label,
    distinctTools: average(sessions.map((session) => Object.keys(session.state.counts.hour.tools).length)),
    distinctLabels: average(sessions.map((session) => Object.keys(session.state.counts.hour.labels).length)),
    mean: throughput(folds, RECORD_ITERATIONS, fold),
    latency,
  };
}

function benchHistory(size: number): HistoryResult {
  const corpus = buildCorpus(SEED + size, size);
  const compileStart = process.hrtime.bigint();
  const bundle = compileBundle(corpus.sources);
  const compileMs = Number(process.hrtime.bigint() - compileStart) / 1e6;
  const sessionsOf = (workingSet: number) =>
    Array.from({ length: SESSIONS }, (_, index) =>
      buildSession(
        bundle,
        sessionTools(SEED + size * 100 + index, corpus.universe, HISTORY, workingSet),
        SEED + index,
      ),
    );
  const sessions = sessionsOf(10);
  const calls = prepareCalls(SEED + size * 7, corpus, INPUTS, {
    allow: 55,
    deny: 15,
    guardrail: 15,
    random: 15,
  });
  const inputs = calls.map((call, index) =>
    decisionInput(call, sessions[index % SESSIONS] as Session, index),
  );

  const perTool = inputs
    .map(({ call }) => {
      const groups = bundle.rulesFor(call.tool);
      return groups.deny.length + groups.approve.length + groups.flag.length + groups.allow.length;
    })
    .sort((a, b) => a - b);
  const codes = tally(inputs.map((input) => decide(bundle, input)));
  if (codes.policy_eval_error > 0) {
    const failing = inputs.find((input) => decide(bundle, input).code === 'policy_eval_error');
    throw new Error(
      `generated CEL failed to evaluate: ${JSON.stringify(failing && decide(bundle, failing))}`,
    );
  }
  const run = (input: DecisionInput) => decide(bundle, input).ruleIds.length;
  const latency = timeEach(inputs, ITERATIONS, WARMUP, run);
  const mean = throughput(inputs, ITERATIONS, run);

  const records = [benchRecord(bundle, sessions, 'focused')];
  if (size === 1_000) records.push(benchRecord(bundle, sessionsOf(0), 'broad'));
  return {
    rules: corpus.rules,
    tools: corpus.universe.tools.length,
    agents: corpus.universe.agents.length,
    compileMs,
    perTool: [perTool[Math.floor(perTool.length / 2)] ?? 0, perTool[Math.floor(perTool.length * 0.9)] ?? 0],
    mean,
    latency,
    codes,
    records,
  };
}

// -----------------------------------------------------------------------------------------------------------
// Static rules: Gatehouse against Cedar

interface StaticResult {
  rules: number;
  requests: number;
  permits: number;
  gatehouseMean: Throughput;
  gatehouse: Latency;
  cedarPreparsed: Latency;
  cedarText: Latency;
}

interface StaticRequest {
  input: DecisionInput;
  tool: ToolInfo;
  preparsed: cedar.StatefulAuthorizationCall;
  text: cedar.AuthorizationCall;
}

function cedarDecision(answer: cedar.AuthorizationAnswer): cedar.Response {
  if (answer.type === 'failure') throw new Error(`cedar failed: ${JSON.stringify(answer.errors)}`);
  return answer.response;
}

const sameIds = (left: readonly string[], right: readonly string[]) =>
  left.length === right.length && [...left].sort().every((id, index) => id === [...right].sort()[index]);

/**
 * Both engines must agree: Gatehouse allow/flag is a Cedar permit and deny a deny, no Cedar policy may error,
 * and the deciding rules must be the same (for a flag, Gatehouse names only the flag rules, which Cedar must
 * also list as satisfied).
 */
function checkAgreement(
  request: StaticRequest,
  decision: Decision,
  response: cedar.Response,
  mode: string,
): void {
  const permit = decision.effect === 'allow' || decision.effect === 'flag';
  const cedarPermit = response.decision === 'allow';
  const reasons = response.diagnostics.reason;
  const idsAgree =
    decision.effect === 'flag'
      ? decision.ruleIds.every((id) => reasons.includes(id))
      : sameIds(decision.ruleIds, reasons);
  if (
    decision.effect !== 'approve' &&
    permit === cedarPermit &&
    idsAgree &&
    response.diagnostics.errors.length === 0
  )
    return;
  console.error(`Gatehouse and Cedar (${mode}) disagree on this request:`);
  console.error(
    JSON.stringify(
      {
        principal: request.input.principal,
        tool: request.tool.name,
        toolLabels: request.tool.labels,
        args: request.input.call.args,
        gatehouse: { effect: decision.effect, code: decision.code, ruleIds: decision.ruleIds },
        cedar: response,
      },
      null,
      2,
    ),
  );
  process.exit(1);
}

function benchStatic(size: number): StaticResult {
  const corpus = buildStaticCorpus(SEED + size * 3, size);
  const bundle = compileBundle(corpus.sources);
  const policySetId = `static-${size}`;
  const parsed = cedar.preparsePolicySet(policySetId, { staticPolicies: corpus.cedarPolicies });
  if (parsed.type !== 'success')
    throw new Error(`cedar policies do not parse: ${JSON.stringify(parsed.errors)}`);
  const toolsByName = new Map(corpus.universe.tools.map((tool) => [tool.name, tool]));
  const state = emptySessionState();
  const calls = prepareCalls(SEED + size * 11, corpus, STATIC_REQUESTS, {
    allow: 50,
    deny: 25,
    guardrail: 0,
    random: 25,
  });
  const requests: StaticRequest[] = calls.map((call) => {
    const tool = toolsByName.get(call.tool) as ToolInfo;
    const request = {
      principal: { type: 'Agent', id: call.agent.principal.id },
      action: { type: 'Action', id: tool.name },
      resource: { type: 'Gateway', id: 'tools' },
      context: call.args as cedar.Context,
      entities: cedarEntities(call.agent, tool) as cedar.Entities,
    };
    return {
      input: {
        principal: call.agent.principal,
        call: { tool: call.tool, args: call.args },
        session: { scope: {}, state },
        now: T0,
      },
      tool,
      preparsed: { ...request, preparsedPolicySetId: policySetId },
      text: { ...request, policies: { staticPolicies: corpus.cedarPolicies } },
    };
  });

  let permits = 0;
  for (const request of requests) {
    const decision = decide(bundle, request.input);
    checkAgreement(
      request,
      decision,
      cedarDecision(cedar.statefulIsAuthorized(request.preparsed)),
      'preparsed',
    );
    checkAgreement(request, decision, cedarDecision(cedar.isAuthorized(request.text)), 'policy text');
    if (decision.effect !== 'deny') permits += 1;
  }

  const run = (request: StaticRequest) => decide(bundle, request.input).ruleIds.length;
  const gatehouse = timeEach(requests, ITERATIONS, WARMUP, run);
  const gatehouseMean = throughput(requests, ITERATIONS, run);
  const warm = Math.min(30, requests.length);
  const cedarPreparsed = timeEach(requests, requests.length, warm, (request) =>
    cedarDecision(cedar.statefulIsAuthorized(request.preparsed)).decision === 'allow' ? 1 : 0,
  );
  const cedarText = timeEach(requests, requests.length, warm, (request) =>
    cedarDecision(cedar.isAuthorized(request.text)).decision === 'allow' ? 1 : 0,
  );
  return {
    rules: corpus.rules,
    requests: requests.length,
    permits,
    gatehouseMean,
    gatehouse,
    cedarPreparsed,
    cedarText,
  };
}

// -----------------------------------------------------------------------------------------------------------
// Run and report

const load = () =>
  loadavg()
    .map((value) => fmt(value, 2))
    .join(' ');
const loadAtStart = load();
const overhead = timerOverheadNs();
console.log(
  `policy decisions${QUICK ? ' (--quick)' : ''}: Node ${process.version} (V8 ${process.versions.v8}), ` +
    `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} logical cores (one used), ` +
    `${fmt(totalmem() / 2 ** 30, 0)} GiB, ${platform()} ${release()} ${arch()}; ` +
    `Cedar ${cedar.getCedarVersion()}`,
);
console.log(
  `timer: process.hrtime.bigint() around each call, ~${fmt(overhead, 0)} ns a pair ` +
    '(included in p50/p99/max); ' +
    'decisions/s and means in CPU time over an untimed loop; ' +
    `${fmt(ITERATIONS)} decisions per row after ${fmt(WARMUP)} warm-up, rotating over ${fmt(INPUTS)} ` +
    `prepared inputs and ${SESSIONS} sessions of ${HISTORY} calls`,
);

const history: HistoryResult[] = [];
for (const size of SIZES) history.push(benchHistory(size));

console.log(`\ndecide() with a ${HISTORY}-call session history`);
console.table(
  history.map((result) => ({
    rules: fmt(result.rules),
    'tools, agents': `${fmt(result.tools)}, ${fmt(result.agents)}`,
    'compile (ms)': fmt(result.compileMs),
    'rules/tool p50, p90': `${result.perTool[0]}, ${result.perTool[1]}`,
    'decisions/s': fmt(1e9 / result.mean.cpu),
    'mean (µs)': us(result.mean.cpu),
    'wall mean (µs)': us(result.mean.wall),
    'p50 (µs)': us(result.latency.p50),
    'p99 (µs)': us(result.latency.p99),
    'p99.9 (µs)': us(result.latency.p999),
    'max (µs)': us(result.latency.max, 0),
  })),
);
console.log('request mix (share of the prepared inputs)');
console.table(
  history.map((result) => ({
    rules: fmt(result.rules),
    allowed: percent(result.codes.allowed, INPUTS),
    flagged: percent(result.codes.flagged, INPUTS),
    'approval required': percent(result.codes.approval_required, INPUTS),
    'denied by a rule': percent(result.codes.policy_denied, INPUTS),
    'default deny': percent(result.codes.no_matching_rule, INPUTS),
  })),
);
console.log(
  `recordCall(): folding the ${HISTORY}th call into a session; focused sessions work with ~10 tools, ` +
    'broad ones ' +
    'with any tool of their services (the decide() rows above use the focused ones)',
);
console.table(
  history.flatMap((result) =>
    result.records.map((record) => ({
      rules: fmt(result.rules),
      sessions: record.label,
      'tools/labels counted': `${fmt(record.distinctTools, 0)} / ${fmt(record.distinctLabels, 0)}`,
      'calls/s': fmt(1e9 / record.mean.cpu),
      'mean (µs)': us(record.mean.cpu),
      'wall mean (µs)': us(record.mean.wall),
      'p50 (µs)': us(record.latency.p50),
      'p99 (µs)': us(record.latency.p99),
      'max (µs)': us(record.latency.max, 0),
    })),
  ),
);

const statics: StaticResult[] = [];
for (const size of STATIC_SIZES) statics.push(benchStatic(size));
console.log(
  '\nstatic rules (principal, tool, arguments): Gatehouse decide() against Cedar; ' +
    'both agree on every request',
);
console.table(
  statics.map((result) => ({
    rules: fmt(result.rules),
    requests: `${fmt(result.requests)} (${percent(result.permits, result.requests)} permit)`,
    'Gatehouse mean (µs)': us(result.gatehouseMean.cpu),
    'Gatehouse p50 (µs)': us(result.gatehouse.p50),
    'Gatehouse p99 (µs)': us(result.gatehouse.p99),
    'Cedar preparsed mean (µs)': us(result.cedarPreparsed.cpuMean, 1),
    'Cedar preparsed p50 (µs)': us(result.cedarPreparsed.p50, 1),
    'Cedar text mean (µs)': us(result.cedarText.cpuMean, 0),
    'ratio preparsed': `${fmt(result.cedarPreparsed.cpuMean / result.gatehouseMean.cpu, 0)}x`,
    'ratio text': `${fmt(result.cedarText.cpuMean / result.gatehouseMean.cpu, 0)}x`,
  })),
);
console.log(
  'Cedar preparsed: statefulIsAuthorized on a policy set parsed once (preparsePolicySet); ' +
    'Cedar text: isAuthorized with the policies passed (and parsed) on every call. ' +
    'Means in CPU time; ratio: Cedar mean / Gatehouse mean.',
);

const at = (rules: number) => history.find((result) => result.rules === rules);
const mid = at(1_000);
const large = at(10_000);
const targets: Array<[string, boolean | undefined, string]> = [];
if (mid) {
  targets.push(['p50 < 4 µs at 1,000 rules', mid.latency.p50 < 4_000, `${us(mid.latency.p50)} µs`]);
  targets.push(['p99 < 20 µs at 1,000 rules', mid.latency.p99 < 20_000, `${us(mid.latency.p99)} µs`]);
}
if (mid && large) {
  const ratio = large.mean.cpu / mid.mean.cpu;
  targets.push([
    '10,000 rules cost ≤ 3x 1,000 rules',
    ratio <= 3,
    `${fmt(ratio, 2)}x mean (p50 ${fmt(large.latency.p50 / mid.latency.p50, 2)}x)`,
  ]);
}
const focused = history.map((result) => result.records[0]?.mean.cpu ?? 0);
const broad = mid?.records[1]?.mean.cpu;
targets.push([
  'recordCall < 5 µs per call',
  Math.max(...focused) < 5_000,
  `${us(Math.max(...focused))} µs mean, focused sessions${broad ? ` (broad: ${us(broad)} µs)` : ''}`,
]);
console.log(`\nload average (1, 5, 15 min): ${loadAtStart} at the start, ${load()} at the end`);
console.log('targets');
console.table(
  targets.map(([target, met, measured]) => ({
    target,
    measured,
    met: met === undefined ? 'n/a' : met ? 'yes' : 'NO',
  })),
);
if (sink === 0.5) console.log('unreachable; keeps the results alive');
