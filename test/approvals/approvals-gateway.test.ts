import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApprovalView, redactArguments, verifyWebhookSignature } from '../../src/approvals/index.js';
import { runCli } from '../../src/cli/program.js';
import { createGatehouse } from '../../src/server/create-gatehouse.js';
import { type ApprovalFixture, startApprovalFixture, WEBHOOK_SECRET } from './approval-fixture.js';

const POLICY = `
tools:
  - { match: everything.echo, labels: [reads:internal] }
rules:
  - { id: env, tool: everything.get-env, effect: allow }
  - id: no-env-after-echo
    tool: everything.get-env
    after: { label: reads:internal, outcome: allowed, within: { steps: 5 } }
    effect: deny
  - { id: echo-needs-one, tool: everything.echo, effect: approve, reason: echoes need a person }
  - id: echo-needs-two
    tool: everything.echo
    condition: 'call.args.message.startsWith("two")'
    effect: approve
    approvers: 2
    reason: these echoes need two people
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
  ((result as { content: Array<{ text?: string }> }).content ?? []).map((part) => part.text ?? '').join('');

const approvalIdOf = (error: McpError) => (error.data as { approvalId: string }).approvalId;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('approvals through the real gateway', () => {
  let fixture: ApprovalFixture;
  const config = () => fixture.server.gatehouse.config.approvals;

  /** The pending request for an echo of `message`, once the gateway has parked it. */
  async function pendingFor(message: string): Promise<ApprovalView> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const { body } = await fixture.admin(fixture.tokens.alice, 'GET', '/approvals?state=pending');
      const found = body.approvals.find((approval) => approval.arguments.message === message);
      if (found) return found;
      await sleep(50);
    }
    throw new Error(`no pending approval for ${message}`);
  }
  const approve = (token: string, id: string, reason = 'looked at it') =>
    fixture.admin(token, 'POST', `/approvals/${id}/approve`, { reason });
  const deny = (token: string, id: string, reason = 'no') =>
    fixture.admin(token, 'POST', `/approvals/${id}/deny`, { reason });

  beforeAll(async () => {
    fixture = await startApprovalFixture(POLICY);
  }, 60_000);
  afterAll(async () => {
    await fixture?.close();
  });

  it('parks the call, reports progress, and runs it once an approver approves', async () => {
    const client = await fixture.connect();
    const progress: number[] = [];
    const call = client.callTool(
      { name: 'everything.echo', arguments: { message: 'hello', apiKey: 'sk-1' } },
      undefined,
      {
        onprogress: (update) => progress.push(update.progress),
        resetTimeoutOnProgress: true,
      },
    );
    const request = await pendingFor('hello');
    expect(request).toMatchObject({
      state: 'pending',
      tool: 'everything.echo',
      arguments: { message: 'hello', apiKey: '[redacted]' },
      ruleIds: ['echo-needs-one'],
      reason: 'echoes need a person',
      required: 1,
      agent: { name: 'helper' },
    });
    await sleep(700);
    const approved = await approve(fixture.tokens.alice, request.id);
    expect(approved.status).toBe(200);
    expect(approved.body.approval.state).toBe('approved');
    expect(textOf(await call)).toContain('hello');
    expect(progress.length).toBeGreaterThan(0);
    const shown = await fixture.admin(fixture.tokens.bob, 'GET', `/approvals/${request.id}`);
    expect(shown.body.approval.consumedAt).not.toBeNull();
    expect(shown.body.approval.votes).toMatchObject([{ vote: 'approve', reason: 'looked at it' }]);
  });

  it('counts an approved call in the session history, so trajectory rules see it', async () => {
    const client = await fixture.connect();
    await client.callTool({ name: 'everything.get-env', arguments: {} });
    const call = client.callTool({ name: 'everything.echo', arguments: { message: 'then env' } });
    const request = await pendingFor('then env');
    await approve(fixture.tokens.alice, request.id);
    expect(textOf(await call)).toContain('then env');
    const error = await rpcErrorOf(client.callTool({ name: 'everything.get-env', arguments: {} }));
    expect(error.data).toMatchObject({ code: 'policy_denied', ruleIds: ['no-env-after-echo'] });
  });

  it('needs two distinct approvers when the rule says 2; a double approve counts once', async () => {
    const client = await fixture.connect();
    let done = false;
    const call = client
      .callTool({ name: 'everything.echo', arguments: { message: 'two people' } })
      .finally(() => {
        done = true;
      });
    const request = await pendingFor('two people');
    expect(request.required).toBe(2);
    const [first, second] = await Promise.all([
      approve(fixture.tokens.alice, request.id),
      approve(fixture.tokens.alice, request.id),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    const after = await fixture.admin(fixture.tokens.alice, 'GET', `/approvals/${request.id}`);
    expect(after.body.approval).toMatchObject({ state: 'pending', approvals: 1 });
    expect(after.body.approval.votes).toHaveLength(1);
    await sleep(600);
    expect(done).toBe(false);
    const last = await approve(fixture.tokens.carol, request.id, 'second pair of eyes');
    expect(last.body.approval).toMatchObject({ state: 'approved', approvals: 2 });
    expect(textOf(await call)).toContain('two people');
  });

  it('refuses the sponsor, a token without a person, and a role without approve', async () => {
    const client = await fixture.connect();
    const call = rpcErrorOf(
      client.callTool({ name: 'everything.echo', arguments: { message: 'by sponsor' } }),
    );
    const request = await pendingFor('by sponsor');
    const bySponsor = await approve(fixture.tokens.sponsor, request.id);
    expect(bySponsor.status).toBe(403);
    expect(bySponsor.body.code).toBe('approver_is_sponsor');
    expect((await approve(fixture.tokens.nobody, request.id)).body.code).toBe('approver_user_required');
    expect((await approve(fixture.tokens.reader, request.id)).body.code).toBe('forbidden');
    expect(
      (await fixture.admin(fixture.tokens.alice, 'POST', `/approvals/${request.id}/approve`, {})).status,
    ).toBe(400);
    expect((await approve(fixture.tokens.alice, 'apr_nope')).body.code).toBe('approval_not_found');
    await deny(fixture.tokens.bob, request.id, 'cleaning up');
    expect((await call).data).toMatchObject({ code: 'approval_denied', approvalId: request.id });
  });

  it('fails the call on deny, and refuses a decision on a resolved request', async () => {
    const client = await fixture.connect();
    const call = rpcErrorOf(client.callTool({ name: 'everything.echo', arguments: { message: 'deny me' } }));
    const request = await pendingFor('deny me');
    const denied = await deny(fixture.tokens.bob, request.id, 'not today');
    expect(denied.body.approval).toMatchObject({ state: 'denied', resolutionReason: 'not today' });
    const error = await call;
    expect(error.data).toMatchObject({ code: 'approval_denied', reason: 'not today' });
    const late = await approve(fixture.tokens.alice, request.id);
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('approval_resolved');
  });

  it('denies the waiting call when the request expires', async () => {
    const saved = { ...config() };
    config().expiry = 1200;
    try {
      const client = await fixture.connect();
      const error = await rpcErrorOf(
        client.callTool({ name: 'everything.echo', arguments: { message: 'too slow' } }),
      );
      expect(error.data).toMatchObject({ code: 'approval_expired' });
      const id = approvalIdOf(error);
      const late = await approve(fixture.tokens.alice, id);
      expect(late.body.code).toBe('approval_expired');
      expect((await fixture.admin(fixture.tokens.alice, 'GET', `/approvals/${id}`)).body.approval.state).toBe(
        'expired',
      );
    } finally {
      Object.assign(config(), saved);
    }
  });

  it('after a wait timeout, the identical retry runs once after approval; changed arguments need their own', async () => {
    const saved = { ...config() };
    config().waitTimeout = 700;
    try {
      const client = await fixture.connect();
      const args = { message: 'later', password: 'hunter2' };
      const pending = await rpcErrorOf(client.callTool({ name: 'everything.echo', arguments: args }));
      expect(pending.data).toMatchObject({ code: 'approval_pending' });
      const id = approvalIdOf(pending);
      // A retry while pending waits on the same request.
      const again = await rpcErrorOf(client.callTool({ name: 'everything.echo', arguments: args }));
      expect(again.data).toMatchObject({ code: 'approval_pending', approvalId: id });
      await approve(fixture.tokens.bob, id);
      expect(textOf(await client.callTool({ name: 'everything.echo', arguments: args }))).toContain('later');
      const second = await rpcErrorOf(client.callTool({ name: 'everything.echo', arguments: args }));
      expect(second.data).toMatchObject({ code: 'approval_pending' });
      expect(approvalIdOf(second)).not.toBe(id);
      const changed = await rpcErrorOf(
        client.callTool({ name: 'everything.echo', arguments: { ...args, message: 'later!' } }),
      );
      expect(approvalIdOf(changed)).not.toBe(id);
      expect(approvalIdOf(changed)).not.toBe(approvalIdOf(second));
      // Another session's identical call does not ride on this session's approval.
      await approve(fixture.tokens.bob, approvalIdOf(second));
      const other = await fixture.connect();
      const elsewhere = await rpcErrorOf(other.callTool({ name: 'everything.echo', arguments: args }));
      expect(elsewhere.data).toMatchObject({ code: 'approval_pending' });
      const ran = await client.callTool({ name: 'everything.echo', arguments: args });
      expect(textOf(ran)).toContain('later');
      for (const open of [approvalIdOf(changed), approvalIdOf(elsewhere)]) {
        await deny(fixture.tokens.bob, open as string);
      }
    } finally {
      Object.assign(config(), saved);
    }
  });

  it('the CLI lists, shows and approves; an approval made by another process releases the call within a second', async () => {
    const client = await fixture.connect();
    const call = client.callTool({ name: 'everything.echo', arguments: { message: 'via cli' } });
    const request = await pendingFor('via cli');
    const cli = async (...argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(['--server', fixture.url, '--token', fixture.tokens.alice, ...argv], {
        stdout: (text) => {
          stdout += text;
        },
        stderr: (text) => {
          stderr += text;
        },
        env: {},
        cwd: '.',
      });
      return { code, stdout, stderr };
    };
    const listed = await cli('approvals', 'list', '--state', 'pending');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(request.id);
    const shown = await cli('approvals', 'show', request.id);
    expect(shown.stdout).toContain('via cli');
    const noReason = await cli('approvals', 'approve', request.id);
    expect(noReason.code).not.toBe(0);
    // Another Gatehouse on the same store: no in-process wake-up, only the store.
    const other = await createGatehouse(fixture.server.gatehouse.config, { actor: 'test:other' });
    try {
      const alice = await other.store.users.findByEmail('alice@example.com');
      const started = Date.now();
      await other.approvals.approve(
        { actor: 'admin:other', role: 'approver', userId: alice?.id ?? null },
        request.id,
        'from elsewhere',
      );
      expect(textOf(await call)).toContain('via cli');
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await other.close();
    }
    const again = await cli('--json', 'approvals', 'approve', request.id, '--reason', 'late');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already approved');
  });

  it('streams changes as server-sent events', async () => {
    const controller = new AbortController();
    const response = await fetch(`${fixture.url}/admin/v1/approvals/events`, {
      headers: { authorization: `Bearer ${fixture.tokens.bob}` },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    const client = await fixture.connect();
    const call = rpcErrorOf(client.callTool({ name: 'everything.echo', arguments: { message: 'streamed' } }));
    await until('event: approval.requested');
    const request = await pendingFor('streamed');
    await deny(fixture.tokens.bob, request.id, 'seen on the stream');
    await until('event: approval.resolved');
    expect(text).toContain(`id: ${request.id}`);
    const resolved = text
      .split('\n\n')
      .find((block) => block.includes('event: approval.resolved') && block.includes(request.id));
    const data = JSON.parse(
      (resolved ?? '')
        .split('\n')
        .find((line) => line.startsWith('data: '))
        ?.slice(6) ?? '{}',
    );
    expect(data.approval).toMatchObject({ id: request.id, state: 'denied' });
    expect((await call).data).toMatchObject({ code: 'approval_denied' });
    controller.abort();
    await reader.cancel().catch(() => {});
  });

  it('lists pending and resolved requests and audits every decision', async () => {
    const resolved = await fixture.admin(fixture.tokens.alice, 'GET', '/approvals?state=resolved');
    expect(resolved.body.approvals.length).toBeGreaterThan(3);
    expect(resolved.body.approvals.every((approval) => approval.state !== 'pending')).toBe(true);
    const pending = await fixture.admin(fixture.tokens.alice, 'GET', '/approvals?state=pending');
    expect(pending.body.approvals).toEqual([]);
    const entries = await fixture.server.gatehouse.store.audit.list(0, 5000);
    const actions = new Set(entries.map((entry: { action: string }) => entry.action));
    for (const action of [
      'approval.requested',
      'approval.voted',
      'approval.approved',
      'approval.denied',
      'approval.expired',
      'approval.consumed',
    ]) {
      expect(actions).toContain(action);
    }
  });

  it('sends signed webhooks on new requests and resolutions', async () => {
    const deadline = Date.now() + 5000;
    while (fixture.webhooks.length < 4 && Date.now() < deadline) await sleep(50);
    const types = new Set(fixture.webhooks.map((hook) => hook.headers['x-gatehouse-event']));
    expect(types).toEqual(new Set(['approval.requested', 'approval.resolved']));
    for (const hook of fixture.webhooks) {
      const timestamp = hook.headers['x-gatehouse-timestamp'] as string;
      const signature = hook.headers['x-gatehouse-signature'] as string;
      expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(verifyWebhookSignature(WEBHOOK_SECRET, timestamp, hook.body, signature)).toBe(true);
      expect(verifyWebhookSignature('wrong', timestamp, hook.body, signature)).toBe(false);
      const body = JSON.parse(hook.body);
      expect(body.type).toBe(hook.headers['x-gatehouse-event']);
      expect(JSON.stringify(body)).not.toContain('hunter2');
      expect(JSON.stringify(body)).not.toContain('sk-1');
    }
  });
});

describe('redactArguments', () => {
  it('hides values under secret-looking keys at any depth and keeps the rest', () => {
    expect(
      redactArguments({
        to: 'a@b.c',
        password: 'p',
        nested: { apiKey: 'k', headers: { Authorization: 'Bearer x' }, list: [{ token: 't', monkey: 'ok' }] },
        key: 'k2',
      }),
    ).toEqual({
      to: 'a@b.c',
      password: '[redacted]',
      nested: {
        apiKey: '[redacted]',
        headers: { Authorization: '[redacted]' },
        list: [{ token: '[redacted]', monkey: 'ok' }],
      },
      key: '[redacted]',
    });
  });
});
