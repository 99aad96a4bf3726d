import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstreamPool, type UpstreamPool } from '../../../src/gateway/upstreams/index.js';
import { codeOf } from '../../support/errors.js';
import { nodeUpstream, SERVER_PATHS } from '../fixtures/upstream-configs.js';

/** The pool against real MCP servers from npm: @modelcontextprotocol/server-filesystem and server-everything. */
describe('upstream pool with npm MCP servers over stdio', () => {
  let pool: UpstreamPool;
  let dir: string;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-fs-')));
    await writeFile(join(dir, 'notes.txt'), 'remember the milk\n');
    pool = createUpstreamPool({
      upstreams: [
        nodeUpstream('fs', SERVER_PATHS.filesystem, [dir]),
        nodeUpstream('ev', SERVER_PATHS.everything, ['stdio']),
      ],
      credentials: async () => ({}),
      defaultTimeoutMs: 5_000,
      log: (line) => logs.push(line),
      clientInfo: { name: 'gatehouse', version: 'test' },
    });
    await pool.start();
  });

  afterAll(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('connects both and reports them ready', () => {
    const status = pool.status();
    expect(status.map((entry) => [entry.name, entry.state, entry.transport])).toEqual([
      ['fs', 'ready', 'stdio'],
      ['ev', 'ready', 'stdio'],
    ]);
    for (const entry of status) {
      expect(entry.tools).toBeGreaterThan(0);
      expect(entry.pid).toBeTypeOf('number');
      expect(entry.connectedAt).toBeTypeOf('number');
      expect(entry.lastError).toBeNull();
    }
    expect(logs).toContain('[ev] Starting default (STDIO) server...');
  });

  it('lists tools namespaced `<upstream>.<tool>` with the original definitions', async () => {
    const tools = await pool.listTools();
    const read = tools.find((entry) => entry.name === 'fs.read_text_file');
    expect(read?.upstream).toBe('fs');
    expect(read?.tool.name).toBe('read_text_file');
    expect(read?.tool.inputSchema.type).toBe('object');
    expect(read?.tool.annotations?.readOnlyHint).toBe(true);
    expect(read?.tool.description).toBeTruthy();
    const echo = tools.find((entry) => entry.name === 'ev.echo');
    expect(echo?.tool.name).toBe('echo');
    expect(tools.every((entry) => entry.name === `${entry.upstream}.${entry.tool.name}`)).toBe(true);
  });

  it('calls a filesystem tool on a real file', async () => {
    const result = await pool.callTool('fs.read_text_file', { path: join(dir, 'notes.txt') });
    expect(result.isError).toBeFalsy();
    expect(result.content).toEqual([{ type: 'text', text: 'remember the milk\n' }]);
  });

  it('passes a tool error through as a result, not an exception', async () => {
    const result = await pool.callTool('fs.read_text_file', { path: '/etc/passwd' });
    expect(result.isError).toBe(true);
  });

  it('calls echo on server-everything', async () => {
    const result = await pool.callTool('ev.echo', { message: 'hello' });
    expect(result.content).toEqual([{ type: 'text', text: 'Echo: hello' }]);
  });

  it('delivers progress notifications of a long-running tool', async () => {
    const updates: Progress[] = [];
    const result = await pool.callTool(
      'ev.trigger-long-running-operation',
      { duration: 0.2, steps: 4 },
      { onProgress: (progress) => updates.push(progress) },
    );
    expect(result.content[0]).toMatchObject({ type: 'text' });
    // The SDK handles notifications a microtask late and drops a progress handler as soon as the response
    // arrives, so the last step, sent just before the response, may be lost; the ones before it never are.
    expect(updates.map((update) => [update.progress, update.total]).slice(0, 3)).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
    ]);
  });

  it('cancels a long-running call: it rejects at once and the connection stays usable', async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    const call = pool.callTool(
      'ev.trigger-long-running-operation',
      { duration: 10, steps: 100 },
      {
        signal: controller.signal,
        onProgress: () => {
          abortedAt = Date.now();
          controller.abort();
        },
      },
    );
    expect(await codeOf(call)).toBe('call_cancelled');
    expect(Date.now() - abortedAt).toBeLessThan(200);
    // The cancelled request is gone from the client; the upstream keeps serving.
    const after = await pool.callTool('ev.echo', { message: 'still here' });
    expect(after.content).toEqual([{ type: 'text', text: 'Echo: still here' }]);
  });

  it('reports a tool that requires task-based execution (not supported yet) as an upstream error', async () => {
    const error = await pool.callTool('ev.simulate-research-query', { topic: 'x' }).catch((caught) => caught);
    expect(error).toMatchObject({ code: 'upstream_error', status: 502, expose: true });
  });

  it('rejects unknown names with tool_not_found', async () => {
    expect(await codeOf(pool.callTool('fs.no_such_tool', {}))).toBe('tool_not_found');
    expect(await codeOf(pool.callTool('nope.echo', {}))).toBe('tool_not_found');
    expect(await codeOf(pool.callTool('echo', {}))).toBe('tool_not_found');
  });

  it('passes resources through with their URIs, tagged with the upstream', async () => {
    const resources = await pool.listResources();
    expect(resources.length).toBeGreaterThan(0);
    expect(resources.every((entry) => entry.upstream === 'ev')).toBe(true); // fs does not advertise resources
    const first = resources[0];
    if (!first) throw new Error('no resource');
    expect(first.resource.uri).toMatch(/^demo:\/\//);
    const read = await pool.readResource('ev', first.resource.uri);
    expect(read.contents[0]?.uri).toBe(first.resource.uri);
    expect(await codeOf(pool.readResource('nope', first.resource.uri))).toBe('tool_not_found');
  });

  it('passes prompts through, namespaced', async () => {
    const prompts = await pool.listPrompts();
    const simple = prompts.find((entry) => entry.name === 'ev.simple-prompt');
    expect(simple?.prompt.name).toBe('simple-prompt');
    expect(prompts.every((entry) => entry.upstream === 'ev')).toBe(true);
    const result = await pool.getPrompt('ev.args-prompt', { city: 'Lyon' });
    expect(JSON.stringify(result.messages)).toContain('Lyon');
    expect(await codeOf(pool.getPrompt('nope.simple-prompt', {}))).toBe('tool_not_found');
  });
});
