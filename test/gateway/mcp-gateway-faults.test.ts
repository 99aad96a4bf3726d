import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeAgentState } from '../../src/registry/index.js';
import { CAPABILITY_HEADER } from '../../src/verify/index.js';
import { type GatewayFixture, startGatewayFixture } from '../support/gateway.js';

const POLICY = `
rules:
  - { id: allow-all, tool: ["files.*", "everything.*", "outbox.*"], effect: allow }
`;

async function rpcErrorOf(promise: Promise<unknown>): Promise<McpError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof McpError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('MCP gateway under attack and failure', () => {
  let fixture: GatewayFixture;
  let base: string;

  beforeAll(async () => {
    fixture = await startGatewayFixture({ policy: POLICY, mcp: { callTimeout: 1500 } });
    base = fixture.server.url.replace('127.0.0.1', '127.0.0.1');
  }, 60_000);
  afterAll(async () => {
    await fixture?.close();
  });

  const post = async (body: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${await fixture.tokens.token()}`,
        ...headers,
      },
      body,
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };

  it('answers without a token with 401 and the MCP authorization challenge', async () => {
    const response = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Bearer .*resource_metadata=".*\/\.well-known\/oauth-protected-resource"/,
    );
    const metadata = await (await fetch(`${base}/.well-known/oauth-protected-resource`)).json();
    expect(metadata).toMatchObject({
      resource: `${fixture.server.gatehouse.issuer}/mcp`,
      authorization_servers: [fixture.server.gatehouse.issuer],
    });
  });

  it('refuses a token for another audience and a forged one', async () => {
    const { gatehouse } = fixture.server;
    const now = Math.floor(Date.now() / 1000);
    const foreign = await gatehouse.keyring.signJwt(
      {
        iss: gatehouse.issuer,
        sub: fixture.agentId,
        aud: 'another-service',
        iat: now,
        exp: now + 60,
        jti: 'x1',
      },
      { typ: 'at+jwt' },
    );
    expect((await post('{}', { authorization: `Bearer ${foreign}` })).status).toBe(401);
    const forged = await new SignJWT({ sub: fixture.agentId })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(new TextEncoder().encode('guess'));
    expect((await post('{}', { authorization: `Bearer ${forged}` })).status).toBe(401);
  });

  it('answers malformed JSON with a JSON-RPC parse error, and a bad message without a session', async () => {
    const garbage = await post('{"jsonrpc": "2.0", "method": ');
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.text)).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } });
    const noSession = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    expect(noSession.status).toBe(400);
    const unknownSession = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), {
      'mcp-session-id': 'mcp_does_not_exist',
    });
    expect(unknownSession.status).toBe(404);
    expect(JSON.parse(unknownSession.text).error.data.code).toBe('mcp_session_not_found');
  });

  it('refuses oversized messages without falling over', async () => {
    const huge = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'everything.echo', arguments: { message: 'x'.repeat(5 * 1024 * 1024) } },
    });
    expect((await post(huge)).status).toBe(413);
    const client = await fixture.connect();
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
  });

  it('refuses unknown methods, unknown tools and arguments that break the schema, forwarding nothing', async () => {
    const client = await fixture.connect();
    const unknownMethod = await rpcErrorOf(
      client.request({ method: 'tools/destroy', params: {} } as never, {} as never),
    );
    expect(unknownMethod.code).toBe(-32601);
    const unknownTool = await rpcErrorOf(client.callTool({ name: 'files.format_disk', arguments: {} }));
    expect(unknownTool.data).toMatchObject({ code: 'tool_not_found' });
    const badArgs = await rpcErrorOf(
      client.callTool({ name: 'everything.echo', arguments: { message: 42 } }),
    );
    expect(badArgs.code).toBe(-32602);
    expect(badArgs.data).toMatchObject({ code: 'invalid_arguments' });
    const refused = (await fixture.server.gatehouse.store.audit.list(0, 100_000)).filter(
      (entry) => entry.action === 'mcp.call.refused',
    );
    expect(refused.map((entry) => entry.details.code)).toEqual(
      expect.arrayContaining(['tool_not_found', 'invalid_arguments']),
    );
  });

  it('has the upstream reject a replayed capability', async () => {
    const client = await fixture.connect();
    await client.callTool({ name: 'outbox.post_message', arguments: { to: 'a@b.example', text: 'once' } });
    const captured = fixture.outbox.presented.at(-1) as string;
    // An attacker who captured the capability calls the tool server directly with it.
    const direct = new Client({ name: 'attacker', version: '1' });
    await direct.connect(
      new StreamableHTTPClientTransport(new URL(fixture.outbox.url), {
        requestInit: { headers: { [CAPABILITY_HEADER]: captured } },
      }),
    );
    const result = await direct.callTool({
      name: 'post_message',
      arguments: { to: 'a@b.example', text: 'once' },
    });
    expect(result.isError).toBe(true);
    expect(fixture.outbox.refused.at(-1)).toEqual({ tool: 'post_message', code: 'capability_replayed' });
    await direct.close();
  });

  it('relays progress from the upstream and times out a slow call', async () => {
    const client = await fixture.connect();
    const progress: number[] = [];
    const error = await rpcErrorOf(
      client.callTool(
        { name: 'everything.trigger-long-running-operation', arguments: { duration: 5, steps: 10 } },
        undefined,
        { onprogress: (update) => progress.push(update.progress), timeout: 20_000 },
      ),
    );
    expect(error.data).toMatchObject({ code: 'upstream_timeout' });
    expect(progress.length).toBeGreaterThan(0);
  });

  it('passes a client cancellation upstream and audits it', async () => {
    const client = await fixture.connect();
    const controller = new AbortController();
    const call = client.callTool(
      { name: 'everything.trigger-long-running-operation', arguments: { duration: 1, steps: 4 } },
      undefined,
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 200);
    await expect(call).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const completed = (await fixture.server.gatehouse.store.audit.list(0, 100_000)).filter(
      (entry) =>
        entry.action === 'mcp.call.completed' &&
        entry.details.tool === 'everything.trigger-long-running-operation',
    );
    expect(completed.at(-1)?.details.outcome).toBe('call_cancelled');
  });

  it('survives an upstream crash mid-session: a clear error, then service resumes', async () => {
    const client = await fixture.connect();
    await client.callTool({ name: 'files.list_directory', arguments: { path: fixture.workspace } });
    const pid = fixture.server.upstreams.status().find((status) => status.name === 'files')?.pid;
    expect(pid).toBeTypeOf('number');
    process.kill(pid as number, 'SIGKILL');
    const during = await rpcErrorOf(
      client.callTool({ name: 'files.list_directory', arguments: { path: fixture.workspace } }),
    ).catch(() => undefined);
    if (during) expect(during.data).toMatchObject({ code: expect.stringMatching(/^upstream_/) });
    const deadline = Date.now() + 15_000;
    let recovered = false;
    while (!recovered && Date.now() < deadline) {
      try {
        await client.callTool({ name: 'files.list_directory', arguments: { path: fixture.workspace } });
        recovered = true;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    expect(recovered).toBe(true);
    expect(
      fixture.server.upstreams.status().find((status) => status.name === 'files')?.restarts,
    ).toBeGreaterThan(0);
  });

  it('cuts off a suspended agent mid-session with a JSON-RPC error, audited', async () => {
    const client = await fixture.connect();
    await client.callTool({ name: 'everything.echo', arguments: { message: 'before' } });
    const { gatehouse } = fixture.server;
    await changeAgentState(gatehouse, 'test', fixture.agentId, 'suspend', 'compromised');
    try {
      const error = await client
        .callTool({ name: 'everything.echo', arguments: { message: 'after' } })
        .catch((caught: unknown) => caught);
      expect(String(error)).toMatch(/agent_inactive|suspended|403/);
      const refused = (await gatehouse.store.audit.list(0, 100_000)).filter(
        (entry) => entry.action === 'mcp.request.refused',
      );
      expect(refused.at(-1)?.details).toMatchObject({ code: 'agent_inactive' });
    } finally {
      await changeAgentState(gatehouse, 'test', fixture.agentId, 'resume');
    }
  });

  it('serves stdio clients through `gatehouse mcp`, which holds only the agent key', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [
        '--import',
        'tsx',
        resolve('src/cli/main.ts'),
        'mcp',
        '--agent',
        fixture.agentId,
        '--key',
        fixture.keyFile,
        '--server',
        base,
      ],
      stderr: 'pipe',
    });
    const client = new Client({ name: 'desktop-assistant', version: '1' });
    await client.connect(transport);
    try {
      const tools = (await client.listTools()).tools.map((tool) => tool.name);
      expect(tools).toContain('everything.echo');
      const result = await client.callTool({ name: 'everything.echo', arguments: { message: 'via stdio' } });
      expect(JSON.stringify(result)).toContain('via stdio');
    } finally {
      await client.close();
    }
  }, 30_000);
});
