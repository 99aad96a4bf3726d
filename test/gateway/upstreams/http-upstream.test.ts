import { ListToolsRequestSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamPort } from '../../../src/gateway/mcp/ports.js';
import { createUpstreamPool, type UpstreamPool } from '../../../src/gateway/upstreams/index.js';
import { codeOf } from '../../support/errors.js';
import { type HttpToolServer, startHttpToolServer } from '../fixtures/http-tool-server.js';
import { httpUpstream, waitFor } from '../fixtures/upstream-configs.js';

const TOKEN = 'tk_live_9f8e7d6c5b4a39281706';
const CAPABILITY_HEADER = 'gatehouse-capability';

describe('upstream pool with a Streamable HTTP upstream', () => {
  let server: HttpToolServer;
  let pool: UpstreamPool;
  const logs: string[] = [];
  const toolChanges: string[] = [];

  beforeAll(async () => {
    server = await startHttpToolServer();
    pool = createUpstreamPool({
      upstreams: [
        httpUpstream('tickets', server.url, {
          headers: { 'x-static': 'static-value' },
          secretHeaders: { authorization: { secret: 'tickets-token', prefix: 'Bearer ' } },
        }),
      ],
      credentials: async () => ({ headers: { authorization: `Bearer ${TOKEN}` } }),
      defaultTimeoutMs: 5_000,
      log: (line) => logs.push(line),
      clientInfo: { name: 'gatehouse', version: 'test' },
      backoff: { initialMs: 20, maxMs: 100 },
    });
    pool.onToolsChanged((upstream) => toolChanges.push(upstream));
    await pool.start();
  });

  afterAll(async () => {
    await pool.close();
    await server.close();
  });

  it('is what the MCP gateway expects of its upstreams', () => {
    const port: UpstreamPort = pool; // compile-time conformance
    expect(port.transportOf('tickets')).toBe('http');
    expect(port.transportOf('nope')).toBeUndefined();
  });

  it('connects with the configured and credential headers, and lists tools', async () => {
    expect(pool.status()[0]).toMatchObject({ name: 'tickets', transport: 'http', state: 'ready', pid: null });
    expect((await pool.listTools()).map((entry) => entry.name).sort()).toEqual([
      'tickets.count',
      'tickets.echo',
      'tickets.slow',
    ]);
    const initialize = server.requests[0];
    expect(initialize?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(initialize?.headers['x-static']).toBe('static-value');
    expect(toolChanges).toEqual(['tickets']);
  });

  it('sends per-call headers and `_meta` with that call only', async () => {
    const result = await pool.callTool(
      'tickets.echo',
      { message: 'one' },
      { headers: { [CAPABILITY_HEADER]: 'cap-one' }, meta: { 'dev.gatehouse/capability': 'cap-one' } },
    );
    expect(result.content).toEqual([{ type: 'text', text: 'one' }]);
    const call = server.calls.at(-1);
    expect(call?.headers[CAPABILITY_HEADER]).toBe('cap-one');
    expect(call?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(call?.meta).toMatchObject({ 'dev.gatehouse/capability': 'cap-one' });

    await pool.callTool('tickets.echo', { message: 'two' });
    expect(server.calls.at(-1)?.headers[CAPABILITY_HEADER]).toBeUndefined();
  });

  it('never lets a per-call header replace a configured one', async () => {
    await pool.callTool(
      'tickets.echo',
      { message: 'x' },
      { headers: { authorization: 'Bearer forged', 'X-Static': 'forged', [CAPABILITY_HEADER]: 'cap' } },
    );
    const call = server.calls.at(-1);
    expect(call?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(call?.headers['x-static']).toBe('static-value');
    expect(call?.headers[CAPABILITY_HEADER]).toBe('cap');
  });

  it('keeps concurrent calls’ headers apart', async () => {
    const requestsBefore = server.requests.length;
    const callsBefore = server.calls.length;
    const ids = Array.from({ length: 24 }, (_, index) => `cap-${index}`);
    await Promise.all(
      ids.map((id, index) =>
        index % 3 === 0
          ? pool.callTool('tickets.slow', { ms: index }) // no header at all
          : index % 3 === 1
            ? pool.callTool('tickets.echo', { message: id }, { headers: { [CAPABILITY_HEADER]: id } })
            : pool.callTool('tickets.slow', { ms: index }, { headers: { [CAPABILITY_HEADER]: id } }),
      ),
    );
    const calls = server.calls.slice(callsBefore);
    expect(calls).toHaveLength(ids.length);
    for (const call of calls) {
      const expected =
        call.tool === 'echo'
          ? call.args.message
          : Number(call.args.ms) % 3 === 0
            ? undefined
            : `cap-${Number(call.args.ms)}`;
      expect(call.headers[CAPABILITY_HEADER]).toBe(expected);
    }
    // Only the calls' own POSTs carried a capability: no session-level request picked one up.
    const carrying = server.requests
      .slice(requestsBefore)
      .filter((request) => request.headers[CAPABILITY_HEADER]);
    expect(carrying).toHaveLength(16);
    expect(carrying.every((request) => request.method === 'POST')).toBe(true);
  });

  it('relays progress notifications', async () => {
    const updates: Progress[] = [];
    const result = await pool.callTool(
      'tickets.count',
      { to: 5, delayMs: 5 },
      { onProgress: (progress) => updates.push(progress) },
    );
    expect(result.content).toEqual([{ type: 'text', text: 'counted to 5' }]);
    expect(updates.slice(0, 4).map((update) => update.message)).toEqual([
      'step 1',
      'step 2',
      'step 3',
      'step 4',
    ]);
  });

  it('cancels: the call rejects at once and the upstream sees its request aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const call = pool.callTool('tickets.slow', { ms: 5_000 }, { signal: controller.signal });
    const served = await waitFor(() =>
      server.calls.find((entry) => entry.tool === 'slow' && entry.args.ms === 5_000),
    );
    controller.abort();
    expect(await codeOf(call)).toBe('call_cancelled');
    expect(Date.now() - started).toBeLessThan(2_000);
    await waitFor(() => served.cancelled, 2_000, 'the server to see the cancellation');
  });

  it('times out a slow call within its limit and cancels it upstream', async () => {
    const started = Date.now();
    const error = await pool
      .callTool('tickets.slow', { ms: 4_000 }, { timeoutMs: 150 })
      .catch((caught) => caught);
    expect(error).toMatchObject({ code: 'upstream_timeout', status: 504, expose: true });
    expect(Date.now() - started).toBeLessThan(1_000);
    const served = server.calls.find((entry) => entry.tool === 'slow' && entry.args.ms === 4_000);
    await waitFor(() => served?.cancelled, 2_000, 'the server to see the timeout as a cancellation');
  });

  it('reports a caller deadline (AbortSignal.timeout) as a timeout', async () => {
    const call = pool.callTool('tickets.slow', { ms: 3_000 }, { signal: AbortSignal.timeout(100) });
    expect(await codeOf(call)).toBe('upstream_timeout');
  });

  it('refreshes tools on notifications/tools/list_changed and tells listeners', async () => {
    const before = toolChanges.length;
    server.addTool('late');
    await waitFor(() => toolChanges.length > before, 2_000, 'a tools-changed event');
    expect(toolChanges.at(-1)).toBe('tickets');
    const late = (await pool.listTools()).find((entry) => entry.name === 'tickets.late');
    expect(late?.tool.name).toBe('late');
    expect((await pool.callTool('tickets.late', {})).content).toEqual([{ type: 'text', text: 'late' }]);
  });

  it('passes the fixture’s resource and prompt through', async () => {
    const resources = await pool.listResources();
    expect(resources).toEqual([
      { upstream: 'tickets', resource: expect.objectContaining({ uri: 'fixture://readme' }) },
    ]);
    const read = await pool.readResource('tickets', 'fixture://readme', {
      headers: { [CAPABILITY_HEADER]: 'cap-resource' },
    });
    expect(read.contents[0]).toMatchObject({ text: 'hello from the fixture' });
    expect(server.requests.at(-1)?.headers[CAPABILITY_HEADER]).toBe('cap-resource');
    const prompt = await pool.getPrompt('tickets.greeting', { name: 'Ada' });
    expect(JSON.stringify(prompt.messages)).toContain('Say hello to Ada.');
  });

  it('reconnects by itself when the server loses the session', async () => {
    const restartsBefore = pool.status()[0]?.restarts ?? 0;
    await server.dropSessions();
    // The next request meets a 404: it fails as unavailable, and the pool opens a new session.
    expect(await codeOf(pool.callTool('tickets.echo', { message: 'lost' }))).toBe('upstream_unavailable');
    await waitFor(() => pool.status()[0]?.state === 'ready', 3_000, 'the pool to reconnect');
    expect(pool.status()[0]?.restarts).toBe(restartsBefore + 1);
    expect(pool.status()[0]?.lastError).toMatch(/404/);
    const result = await pool.callTool('tickets.echo', { message: 'back' });
    expect(result.content).toEqual([{ type: 'text', text: 'back' }]);
  });

  it('never shows the credential in status, logs or errors', () => {
    const everything = JSON.stringify({ status: pool.status(), logs });
    expect(everything).not.toContain(TOKEN);
  });
});

describe('tool pagination', () => {
  it('follows nextCursor until the last page', async () => {
    const all = Array.from({ length: 7 }, (_, index) => ({
      name: `tool_${index}`,
      inputSchema: { type: 'object' as const },
    }));
    const server = await startHttpToolServer({
      configure: (mcp) =>
        mcp.server.setRequestHandler(ListToolsRequestSchema, async (request) => {
          const from = Number(request.params?.cursor ?? 0);
          const next = from + 3;
          return { tools: all.slice(from, next), ...(next < all.length ? { nextCursor: String(next) } : {}) };
        }),
    });
    const pool = createUpstreamPool({
      upstreams: [httpUpstream('paged', server.url)],
      credentials: async () => ({}),
      defaultTimeoutMs: 2_000,
      log: () => {},
      clientInfo: { name: 'gatehouse', version: 'test' },
    });
    try {
      await pool.start();
      expect((await pool.listTools()).map((entry) => entry.name)).toEqual(
        all.map((tool) => `paged.${tool.name}`),
      );
    } finally {
      await pool.close();
      await server.close();
    }
  });
});

describe('an HTTP upstream that goes away', () => {
  it('starts down when the server is not there yet, and ends its session on close()', async () => {
    const server = await startHttpToolServer();
    const { port } = server;
    await server.close();
    const pool = createUpstreamPool({
      upstreams: [httpUpstream('late', `http://127.0.0.1:${port}/mcp`)],
      credentials: async () => ({}),
      defaultTimeoutMs: 1_000,
      log: () => {},
      clientInfo: { name: 'gatehouse', version: 'test' },
      backoff: { initialMs: 20, maxMs: 80 },
    });
    try {
      await pool.start();
      expect(pool.status()[0]).toMatchObject({
        state: 'down',
        lastError: expect.stringMatching(/ECONNREFUSED/),
      });
      const revived = await startHttpToolServer({ port });
      try {
        await waitFor(() => pool.status()[0]?.state === 'ready', 3_000, 'the first connection');
        expect(revived.sessionCount()).toBe(1);
        await pool.close();
        expect(revived.sessionCount()).toBe(0); // DELETE ended the session
      } finally {
        await revived.close();
      }
    } finally {
      await pool.close();
    }
  });

  it('is noticed by the health check, then reconnected once the server is back', async () => {
    const first = await startHttpToolServer();
    const logs: string[] = [];
    const pool = createUpstreamPool({
      upstreams: [httpUpstream('remote', first.url)],
      credentials: async () => ({}),
      defaultTimeoutMs: 1_000,
      log: (line) => logs.push(line),
      clientInfo: { name: 'gatehouse', version: 'test' },
      backoff: { initialMs: 20, maxMs: 80 },
      healthCheckIntervalMs: 50,
    });
    try {
      await pool.start();
      expect(pool.status()[0]?.state).toBe('ready');
      await first.close();
      await waitFor(() => pool.status()[0]?.state !== 'ready', 2_000, 'the upstream to be seen down');
      expect(await codeOf(pool.callTool('remote.echo', { message: 'x' }))).toMatch(
        /upstream_(unavailable|timeout)/,
      );
      const second = await startHttpToolServer({ port: first.port });
      try {
        await waitFor(() => pool.status()[0]?.state === 'ready', 3_000, 'the pool to reconnect');
        expect((await pool.callTool('remote.echo', { message: 'again' })).content).toEqual([
          { type: 'text', text: 'again' },
        ]);
        expect(pool.status()[0]?.lastError).toBeTruthy();
      } finally {
        await pool.close();
        await second.close();
      }
    } finally {
      await pool.close();
    }
  });
});
