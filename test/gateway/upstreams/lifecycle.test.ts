import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createUpstreamPool,
  type UpstreamPool,
  type UpstreamPoolOptions,
  type UpstreamState,
} from '../../../src/gateway/upstreams/index.js';
import { codeOf } from '../../support/errors.js';
import { isAlive, nodeUpstream, SERVER_PATHS, stdioUpstream, waitFor } from '../fixtures/upstream-configs.js';

const SECRET = 'sk_test_51HqLyjWDarjtT1zdp7dc';

const pools: UpstreamPool[] = [];

/** A pool with fast backoff and short grace periods, closed after each test. */
function testPool(options: Partial<UpstreamPoolOptions> & Pick<UpstreamPoolOptions, 'upstreams'>) {
  const logs: string[] = [];
  const pool = createUpstreamPool({
    credentials: async () => ({}),
    defaultTimeoutMs: 5_000,
    log: (line) => logs.push(line),
    clientInfo: { name: 'gatehouse', version: 'test' },
    backoff: { initialMs: 40, maxMs: 200 },
    shutdownGraceMs: 150,
    ...options,
  });
  pools.push(pool);
  return { pool, logs };
}

const fixture = (name = 'fx', args: string[] = [], extra = {}) =>
  nodeUpstream(name, SERVER_PATHS.stdioFixture, args, extra);

const stateOf = (pool: UpstreamPool, name: string) => pool.status().find((entry) => entry.name === name);

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

describe('upstream lifecycle', () => {
  it('restarts a crashed or exited child by itself: calls fail as unavailable meanwhile, then work again', async () => {
    const { pool, logs } = testPool({ upstreams: [fixture()] });
    await pool.start();
    const states: UpstreamState[] = [];
    pool.onStatusChanged((status) => states.push(status.state));
    const pid = stateOf(pool, 'fx')?.pid;
    if (!pid) throw new Error('no pid');

    const inFlight = pool.callTool('fx.slow', { ms: 5_000 });
    process.kill(pid, 'SIGKILL');
    expect(await codeOf(inFlight)).toBe('upstream_unavailable');
    expect(stateOf(pool, 'fx')?.lastError).toMatch(/process exited/);
    expect(await codeOf(pool.callTool('fx.echo', { message: 'too soon' }))).toBe('upstream_unavailable');

    await waitFor(() => stateOf(pool, 'fx')?.state === 'ready', 3_000, 'the restart');
    const restarted = stateOf(pool, 'fx');
    expect(restarted?.restarts).toBe(1);
    expect(restarted?.pid).not.toBe(pid);
    expect(isAlive(pid)).toBe(false);
    expect((await pool.callTool('fx.echo', { message: 'back' })).content).toEqual([
      { type: 'text', text: 'back' },
    ]);
    expect(states).toEqual(['down', 'connecting', 'ready']);
    expect(logs.some((line) => /upstream `fx` down: process exited.*retrying in \d+ ms/.test(line))).toBe(
      true,
    );

    // Exiting on its own is the same story; a call made while it reconnects waits for the connection.
    await pool.callTool('fx.crash', {});
    await waitFor(() => stateOf(pool, 'fx')?.state === 'connecting', 3_000, 'the reconnection attempt');
    expect((await pool.callTool('fx.echo', { message: 'again' })).content).toEqual([
      { type: 'text', text: 'again' },
    ]);
    expect(stateOf(pool, 'fx')).toMatchObject({ state: 'ready', restarts: 2 });
  });

  it('an upstream that cannot start is down with a useful error, and the others work', async () => {
    const { pool } = testPool({
      upstreams: [
        stdioUpstream('missing', '/nonexistent/definitely-not-a-command', []),
        stdioUpstream('broken', process.execPath, [
          '-e',
          'console.error("config file /etc/x.yaml not found"); process.exit(2)',
        ]),
        fixture(),
      ],
      backoff: { initialMs: 5_000, maxMs: 5_000 }, // no retry during the test
    });
    const started = Date.now();
    await pool.start();
    expect(Date.now() - started).toBeLessThan(3_000);
    const missing = stateOf(pool, 'missing');
    expect(missing?.state).toBe('down');
    expect(missing?.lastError).toMatch(/ENOENT/);
    const broken = stateOf(pool, 'broken');
    expect(broken?.state).toBe('down');
    expect(broken?.lastError).toContain('config file /etc/x.yaml not found');
    expect(stateOf(pool, 'fx')?.state).toBe('ready');
    expect((await pool.listTools()).every((entry) => entry.upstream === 'fx')).toBe(true);
    expect((await pool.callTool('fx.echo', { message: 'fine' })).content).toEqual([
      { type: 'text', text: 'fine' },
    ]);
    expect(await codeOf(pool.callTool('missing.anything', {}))).toBe('upstream_unavailable');
  });

  it('close() ends every child, even one that ignores the end of stdin and SIGTERM', async () => {
    const { pool, logs } = testPool({
      upstreams: [
        fixture('polite'),
        fixture('stubborn', ['--stubborn']),
        nodeUpstream('ev', SERVER_PATHS.everything),
      ],
    });
    await pool.start();
    const pids = pool.status().map((entry) => entry.pid);
    expect(pids.every((pid) => typeof pid === 'number')).toBe(true);
    const inFlight = codeOf(pool.callTool('polite.slow', { ms: 5_000 }));
    const started = Date.now();
    await pool.close();
    expect(Date.now() - started).toBeLessThan(1_500);
    for (const pid of pids) expect(isAlive(pid as number)).toBe(false);
    expect(logs).toContain('[stubborn] ignoring SIGTERM');
    expect(await inFlight).toBe('upstream_unavailable');
    expect(pool.status().every((entry) => entry.state === 'down' && entry.pid === null)).toBe(true);
    expect(await codeOf(pool.callTool('polite.echo', { message: 'x' }))).toBe('upstream_unavailable');
  });

  it('close() during a connection attempt leaves no child behind', async () => {
    // A process that never answers the handshake: the attempt is still pending when close() comes.
    const { pool } = testPool({
      upstreams: [stdioUpstream('mute', process.execPath, ['-e', 'setInterval(() => {}, 1000)'])],
      connectTimeoutMs: 10_000,
    });
    const starting = pool.start();
    const pid = await waitFor(() => stateOf(pool, 'mute')?.pid, 3_000, 'the spawn');
    expect(stateOf(pool, 'mute')?.state).toBe('connecting');
    await pool.close();
    await starting;
    expect(stateOf(pool, 'mute')).toMatchObject({ state: 'down', pid: null });
    expect(isAlive(pid)).toBe(false);
  });
});

describe('calls on stdio upstreams', () => {
  let shared: ReturnType<typeof testPool>;

  beforeAll(async () => {
    shared = testPool({ upstreams: [fixture(), fixture('quick', [], { timeout: 200 })] });
    pools.pop(); // closed in afterAll, not after each test
    await shared.pool.start();
  });

  afterAll(() => shared.pool.close());

  it('times out a slow stdio call within the limit and cancels it upstream', async () => {
    const started = Date.now();
    // The upstream's configured `timeout` applies when the call sets none.
    expect(await codeOf(shared.pool.callTool('quick.slow', { ms: 3_000 }))).toBe('upstream_timeout');
    expect(Date.now() - started).toBeLessThan(800);
    await waitFor(
      () => shared.logs.some((line) => line.startsWith('[quick] slow cancelled')),
      2_000,
      'the cancel',
    );
    // A per-call timeout overrides it.
    expect((await shared.pool.callTool('quick.slow', { ms: 300 }, { timeoutMs: 2_000 })).content).toEqual([
      { type: 'text', text: 'slept 300' },
    ]);
  });

  it('cancellation reaches a stdio upstream as notifications/cancelled', async () => {
    const { pool, logs } = shared;
    const controller = new AbortController();
    const call = pool.callTool('fx.slow', { ms: 5_000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    expect(await codeOf(call)).toBe('call_cancelled');
    expect(Date.now() - started).toBeLessThan(1_000);
    await waitFor(
      () => logs.some((line) => line.startsWith('[fx] slow cancelled')),
      2_000,
      'the upstream to see it',
    );
    // An already-aborted signal never sends anything.
    expect(await codeOf(pool.callTool('fx.echo', { message: 'x' }, { signal: AbortSignal.abort() }))).toBe(
      'call_cancelled',
    );
  });

  it('puts `meta` into params._meta over stdio, next to the progress token', async () => {
    const { pool } = shared;
    const result = await pool.callTool(
      'fx.meta',
      {},
      {
        meta: { 'dev.gatehouse/capability': 'cap-123' },
        onProgress: () => {},
        headers: { ignored: 'on stdio' },
      },
    );
    const [content] = result.content;
    const meta = JSON.parse(content?.type === 'text' ? content.text : '{}');
    expect(meta['dev.gatehouse/capability']).toBe('cap-123');
    expect(meta.progressToken).toBeDefined();
  });
});

describe('secrets', () => {
  it('injects credential env into a minimal child environment, and never shows the value', async () => {
    process.env.GATEHOUSE_PARENT_ONLY = 'parent-secret-value';
    const { pool, logs } = testPool({
      upstreams: [fixture('fx', [], { env: { PLAIN_SETTING: 'on' }, secretEnv: { API_TOKEN: 'fx-token' } })],
      credentials: async (upstream) => {
        expect(upstream.name).toBe('fx');
        return { env: { API_TOKEN: SECRET } };
      },
    });
    try {
      await pool.start();
    } finally {
      delete process.env.GATEHOUSE_PARENT_ONLY;
    }
    const ask = async (name: string) => {
      const [content] = (await pool.callTool('fx.has_env', { name })).content;
      return content?.type === 'text' ? content.text : undefined;
    };
    expect(await ask('API_TOKEN')).toBe('set');
    expect(await ask('PLAIN_SETTING')).toBe('set');
    expect(await ask('GATEHOUSE_PARENT_ONLY')).toBe('unset'); // nothing inherited beyond the SDK's safe list
    const [names] = (await pool.callTool('fx.env_names', {})).content;
    const allowed = ['API_TOKEN', 'PLAIN_SETTING', 'HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'];
    for (const name of (names?.type === 'text' ? names.text : '').split(',')) {
      // Node itself may add a few (e.g. NODE_*): none may come from our environment but the safe list.
      if (!name.startsWith('NODE_')) expect(allowed).toContain(name);
    }

    // The upstream prints the secret on stderr, then dies with it as its last words: redacted everywhere.
    await pool.callTool('fx.leak_env_to_stderr', { name: 'API_TOKEN' });
    await waitFor(() => logs.some((line) => line.includes('the value of API_TOKEN is')));
    expect(logs).toContain('[fx] the value of API_TOKEN is [redacted]');
    const pid = stateOf(pool, 'fx')?.pid as number;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => stateOf(pool, 'fx')?.restarts === 1 && stateOf(pool, 'fx')?.state === 'ready', 3_000);
    expect(stateOf(pool, 'fx')?.lastError).toContain('[redacted]');
    const seen = JSON.stringify({ status: pool.status(), logs });
    expect(seen).not.toContain(SECRET);
    expect(seen).not.toContain('parent-secret-value');
  });

  it('does not spawn an upstream whose credentials are missing, and hides why the vault failed', async () => {
    const { pool } = testPool({
      upstreams: [
        fixture('lacking', [], { secretEnv: { API_TOKEN: 'fx-token' } }),
        fixture('vaultless', [], { secretEnv: { API_TOKEN: 'fx-token' } }),
      ],
      credentials: async (upstream) => {
        if (upstream.name === 'vaultless') throw new Error(`vault exploded near ${SECRET}`);
        return {};
      },
      backoff: { initialMs: 5_000, maxMs: 5_000 },
    });
    await pool.start();
    expect(stateOf(pool, 'lacking')).toMatchObject({
      state: 'down',
      pid: null,
      lastError: 'credentials unavailable: no value for `API_TOKEN`',
    });
    expect(stateOf(pool, 'vaultless')?.lastError).toBe('credentials unavailable: lookup failed');
    const error = await pool.callTool('vaultless.echo', { message: 'x' }).catch((caught: Error) => caught);
    expect(JSON.stringify({ message: error.message, error })).not.toContain(SECRET);
  });
});
