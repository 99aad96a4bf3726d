/**
 * Gatehouse as bench/proxy runs it, in its own process: the real server (`startServer`) on a fresh SQLite
 * store (WAL, synchronous=FULL, the default), fronting the benchmark upstream as `bench` with a vault secret
 * injected as a header on every request, the 36-rule policy of ./policy.ts published from a file, capabilities minted
 * and redeemed on every call, and every call's decision and outcome audited (group commit) before it returns.
 * One approved agent, `bench-agent`, whose private key is written to a file for the load generator.
 *
 * Usage (by bench/proxy.ts): `BENCH_UPSTREAM=<url> BENCH_UPSTREAM_KEY=<secret> node --import tsx
 * bench/proxy/gatehouse.ts`; prints one `READY {json}` line, and on SIGTERM closes the server (flushing the
 * audit log), deletes its files and exits (so `--cpu-prof` writes its profile).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.js';
import { findFreePort } from '../../src/lib/free-port.js';
import { createTeam, createUser, registerAgent, reviewAgent } from '../../src/registry/index.js';
import { startServer } from '../../src/server/start-server.js';
import { announceReady, UPSTREAM_KEY_HEADER } from './children.js';
import { BENCH_AGENT, BENCH_POLICY, BENCH_TEAM } from './policy.js';

export interface GatehouseInfo {
  url: string;
  agentId: string;
  keyFile: string;
  dataDir: string;
}

const SETUP = 'bench:setup';
const upstreamUrl = process.env.BENCH_UPSTREAM ?? '';
const upstreamKey = process.env.BENCH_UPSTREAM_KEY ?? '';

const root = await realpath(await mkdtemp(join(process.env.BENCH_DATA_DIR ?? tmpdir(), 'gatehouse-bench-')));
const policyDir = join(root, 'policy');
await mkdir(policyDir);
await writeFile(join(policyDir, 'policy.yaml'), BENCH_POLICY);
const port = await findFreePort();
const issuer = `http://127.0.0.1:${port}`;
const config = parseConfig({
  dataDir: join(root, 'data'),
  masterKey: randomBytes(32).toString('base64'),
  server: { port, publicUrl: issuer, logLevel: 'silent' },
  // Long enough that no token is renewed during a run.
  tokens: { accessTokenTtl: '2h' },
  policy: { path: policyDir, watch: false },
  upstreams: [
    {
      name: 'bench',
      transport: 'http',
      url: upstreamUrl,
      secretHeaders: { [UPSTREAM_KEY_HEADER]: { secret: 'bench-key', prefix: '' } },
    },
  ],
});

// The vault needs the store before the upstream connects: put the secret in through a first, short start.
const bootstrap = await startServer({ ...config, upstreams: [], server: { ...config.server, port: 0 } });
await bootstrap.gatehouse.vault.set({ name: 'bench-key', value: upstreamKey, upstream: 'bench' }, SETUP);
await bootstrap.close();

const server = await startServer(config, { log: (line) => process.stderr.write(`[gatehouse] ${line}\n`) });
const { gatehouse } = server;
await createTeam(gatehouse, SETUP, { name: BENCH_TEAM });
await createUser(gatehouse, SETUP, { email: 'sponsor@example.com', teams: [BENCH_TEAM] });
await createUser(gatehouse, SETUP, { email: 'reviewer@example.com' });
const registered = await registerAgent(gatehouse, SETUP, {
  name: BENCH_AGENT,
  team: BENCH_TEAM,
  sponsor: 'sponsor@example.com',
  labels: { env: 'bench' },
  manifest: {
    description: 'benchmark client',
    tools: ['bench.*'],
    egressHosts: [],
    llmProviders: [],
    dataClasses: [],
  },
});
await reviewAgent(gatehouse, { actor: SETUP, userId: null }, registered.agent.id, {
  decision: 'approve',
  reviewer: 'reviewer@example.com',
});
const keyFile = join(root, 'agent.jwk');
await writeFile(keyFile, JSON.stringify(registered.privateKey?.jwk), { mode: 0o600 });

const info: GatehouseInfo = {
  url: `${server.url}/mcp`,
  agentId: registered.agent.id,
  keyFile,
  dataDir: root,
};
announceReady({ ...info });

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void server
    .close()
    .catch((error: unknown) => process.stderr.write(`[gatehouse] close failed: ${String(error)}\n`))
    .then(() => rm(root, { recursive: true, force: true }))
    .finally(() => process.exit(0));
});
