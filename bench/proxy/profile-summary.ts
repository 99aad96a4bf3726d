/**
 * Summarises a V8 CPU profile (`--cpu-prof`, e.g. from `npm run bench:proxy -- --profile <dir>`): self time
 * by category (what kind of work: SQLite, the MCP SDK, JWT crypto, ...), the functions and source files with
 * the most self time, and the functions with the most total (inclusive) time, each as a share of the samples
 * kept.
 * `--calls <n>` (the calls made in the window kept) adds the time per call.
 *
 * Usage: `npx tsx bench/proxy/profile-summary.ts <file.cpuprofile> [--top 30] [--skip <s>] [--match <text>]`;
 * `--skip` leaves out the first seconds (start-up: module loading, policy compilation), `--match` keeps only
 * the inclusive rows whose function name or file contains the text.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '30' },
    skip: { type: 'string', default: '0' },
    match: { type: 'string' },
    calls: { type: 'string' },
  },
});
const file = positionals[0];
if (!file) {
  console.error('usage: profile-summary <file.cpuprofile> [--top N] [--match text]');
  process.exit(2);
}
const top = Number(values.top);
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const skipUs = Number(values.skip) * 1e6;
const selfUs = new Map<number, number>();
let elapsedUs = 0;
let totalUs = 0;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  elapsedUs += delta;
  if (elapsedUs < skipUs) return;
  totalUs += delta;
  selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
});

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, 'npm:')
    .replace(/^.*\/(src|bench)\//, '$1/');
const label = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
};
const calls = values.calls ? Number(values.calls) : undefined;
const share = (us: number) =>
  `${((us / totalUs) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms` +
  (calls ? `  ${(us / calls).toFixed(0).padStart(5)} µs/call` : '');

/** Kinds of work, by source (first match wins); native frames without a source by their name. */
const CATEGORIES: Array<[string, RegExp]> = [
  ['idle', /^\(idle\)/],
  ['garbage collection', /^\(garbage collector\)/],
  ['SQLite statements (incl. fsync waits)', /sqlite-database\.ts|better-sqlite3/],
  ['store repositories, JSON columns', /src\/store\//],
  ['HTTP client to the upstream (undici fetch)', /internal\/deps\/undici/],
  ['MCP SDK (transports, protocol)', /@modelcontextprotocol\/sdk|@hono\/node-server/],
  ['zod (SDK message schemas)', /npm:zod/],
  [
    'web streams, AbortSignal, events',
    /webstreams|abort_controller|event_target|node:events|encoding|js_transferable|^structuredClone|^JSTransferable/,
  ],
  [
    'JWT sign/verify (jose, WebCrypto EdDSA)',
    /jose|internal\/crypto\/(util|cfrg|webcrypto|keys|sig)|signing-keyring/,
  ],
  ['hashing, canonical JSON, ids', /canonicalize|internal\/crypto\/(hash|random)|canonical-json|lib\/ids/],
  ['Fastify', /fastify|find-my-way|avvio|light-my-request/],
  ['policy engine (incl. CEL)', /src\/policy\/|cel-js/],
  ['policy runtime (sessions)', /src\/policy-runtime\//],
  ['audit log', /src\/audit\//],
  ['capabilities', /src\/capabilities\/|src\/verify\//],
  ['gateway code', /src\/gateway\//],
  ['ajv', /npm:ajv/],
  [
    'node http, net, streams',
    /node:_http|node:net|internal\/streams|stream_base_commons|^writev|^writeUtf8String|^writeBuffer/,
  ],
  ['async hooks, microtasks, timers', /async_hooks|task_queues|^runMicrotasks|internal\/timers|^\(program\)/],
  ['module loading (start-up)', /internal\/modules|npm:tsx|bootstrap\/realm|cjs-module-lexer/],
];
const categoryOf = (node: ProfileNode) => {
  const key = node.callFrame.url ? shortUrl(node.callFrame.url) : node.callFrame.functionName;
  return CATEGORIES.find(([, pattern]) => pattern.test(key))?.[0] ?? 'other';
};

const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
const selfByCategory = new Map<string, number>();
const selfByFunction = new Map<string, number>();
const selfByFile = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  add(selfByCategory, categoryOf(node), us);
  add(selfByFunction, label(node), us);
  add(selfByFile, shortUrl(node.callFrame.url) || node.callFrame.functionName, us);
  // Each frame on the stack once, even when it recurses.
  const seen = new Set<string>();
  for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor)) {
    const frame = byId.get(cursor);
    if (!frame) break;
    const key = label(frame);
    if (seen.has(key)) continue;
    seen.add(key);
    add(inclusive, key, us);
  }
}

const print = (title: string, map: Map<string, number>, filter?: (key: string) => boolean) => {
  console.log(`\n${title}`);
  [...map]
    .filter(([key]) => !filter || filter(key))
    .sort((x, y) => y[1] - x[1])
    .slice(0, top)
    .forEach(([key, us]) => {
      console.log(`${share(us)}  ${key}`);
    });
};

console.log(`${file}: ${(totalUs / 1e6).toFixed(2)} s summarised (after skipping ${values.skip} s)`);
print('self time by category', selfByCategory);
print('self time by function', selfByFunction);
print('self time by file', selfByFile);
const match = values.match;
print(
  'total (inclusive) time by function',
  inclusive,
  match ? (key) => key.includes(match) : (key) => !key.startsWith('(root)'),
);
