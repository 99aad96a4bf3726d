/**
 * The AuthZEN endpoints over real HTTP (in-process `inject`): who may ask, what a malformed request gets, the
 * batch semantics, and the Gatehouse-native mapping (registered agents, tool calls, flag and approve).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminToken, revokeAdminToken } from '../../src/identity/admin-tokens.js';
import type { AdminRole } from '../../src/identity/types.js';
import { readPolicySources } from '../../src/policy-runtime/index.js';
import { api, createTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';

const EVALUATION = '/access/v1/evaluation';
const EVALUATIONS = '/access/v1/evaluations';
const BOOTSTRAP = { actor: 'test:bootstrap', role: 'admin' as const, userId: null };

let fx: TestGatehouse;
const tokens = {} as Record<AdminRole, string>;
let invoiceBotId: string;

async function tokenFor(role: AdminRole) {
  return (await createAdminToken(fx.gatehouse, BOOTSTRAP, { role, name: `${role} token` })).secret;
}

async function raw(url: string, payload: string | undefined, headers: Record<string, string> = {}) {
  const response = await fx.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${tokens.pep}`, 'content-type': 'application/json', ...headers },
    ...(payload === undefined ? {} : { payload }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read fields of known API responses
  let body: any;
  try {
    body = response.json();
  } catch {
    body = undefined;
  }
  return { status: response.statusCode, headers: response.headers, body };
}

const evaluate = (body: unknown, token: string | null = tokens.pep) =>
  api(fx, 'POST', EVALUATION, body, token);
const evaluateMany = (body: unknown) => api(fx, 'POST', EVALUATIONS, body, tokens.pep);

const agentCall = (agent: string, tool: string, args: Record<string, unknown> = {}, action = 'call') => ({
  subject: { type: 'agent', id: agent },
  action: { name: action },
  resource: { type: 'tool', id: tool, properties: { args } },
});
const report = (ip: string, extra: Record<string, unknown> = {}) => ({
  subject: { type: 'user', id: 'carol@example.com' },
  action: { name: 'read' },
  resource: { type: 'report', id: 'q3' },
  context: { ip },
  ...extra,
});
const PERMIT = report('10.1.2.3');
const DENY = report('192.0.2.1');

beforeAll(async () => {
  fx = await createTestGatehouse();
  for (const role of ['pep', 'auditor', 'reviewer', 'approver'] as const) tokens[role] = await tokenFor(role);
  tokens.admin = fx.admin;
  const admin = (method: 'POST', url: string, body: unknown) => api(fx, method, url, body);
  expect((await admin('POST', '/admin/v1/teams', { name: 'payments' })).status).toBe(201);
  expect(
    (await admin('POST', '/admin/v1/users', { email: 'alice@example.com', teams: ['payments'] })).status,
  ).toBe(201);
  const invoiceBot = await admin('POST', '/admin/v1/agents', {
    name: 'invoice-bot',
    team: 'payments',
    sponsor: 'alice@example.com',
    labels: { env: 'prod' },
  });
  expect(invoiceBot.status).toBe(201);
  invoiceBotId = invoiceBot.body.agent.id;
  for (const name of ['old-bot']) {
    const registered = await admin('POST', '/admin/v1/agents', {
      name,
      team: 'payments',
      sponsor: 'alice@example.com',
      labels: { env: 'prod' },
    });
    expect(registered.status).toBe(201);
  }
  expect((await admin('POST', '/admin/v1/agents/old-bot/suspend', { reason: 'test' })).status).toBe(200);
});
afterAll(async () => fx.dispose());

describe('before any policy is active', () => {
  it('denies everything by default, and says so', async () => {
    const response = await evaluate(PERMIT);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      decision: false,
      context: { effect: 'deny', code: 'no_matching_rule', rule_ids: [], policy_version: 'none' },
    });
  });
});

describe('with the native policy', () => {
  beforeAll(async () => {
    const sources = await readPolicySources(new URL('./policies/native', import.meta.url).pathname);
    await fx.gatehouse.policies.publish(sources, { actor: 'test', activate: true });
  });

  describe('authentication', () => {
    it('answers 401 problem+json with a Bearer challenge without a token, whatever the body', async () => {
      for (const body of [PERMIT, 'not json', { evaluations: 'x' }]) {
        for (const url of [EVALUATION, EVALUATIONS]) {
          const response = await api(fx, 'POST', url, body, null);
          expect(response.status).toBe(401);
          expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
          expect(String(response.headers['content-type'])).toMatch(/^application\/problem\+json/);
          expect(response.body).toMatchObject({ status: 401, code: 'unauthorized' });
        }
      }
    });

    it('answers 401 for an unknown, malformed or revoked token', async () => {
      const revoked = await createAdminToken(fx.gatehouse, BOOTSTRAP, { role: 'pep', name: 'revoked' });
      await revokeAdminToken(fx.gatehouse, BOOTSTRAP, revoked.token.id);
      for (const token of ['gha_unknown', 'not a token', revoked.secret]) {
        const response = await evaluate(PERMIT, token);
        expect(response.status, token).toBe(401);
        expect(response.headers['www-authenticate']).toMatch(/^Bearer\b/);
      }
      const basic = await raw(EVALUATION, JSON.stringify(PERMIT), { authorization: 'Basic dXNlcjpwYXNz' });
      expect(basic.status).toBe(401);
    });

    it('answers 403 to roles that may not evaluate', async () => {
      for (const role of ['auditor', 'reviewer', 'approver'] as const) {
        for (const url of [EVALUATION, EVALUATIONS]) {
          const response = await api(fx, 'POST', url, PERMIT, tokens[role]);
          expect(response.status, role).toBe(403);
          expect(response.body).toMatchObject({ code: 'forbidden' });
          expect(response.body.detail).toContain('evaluate');
        }
      }
    });

    it('lets the pep and admin roles evaluate', async () => {
      for (const role of ['pep', 'admin'] as const) {
        expect((await evaluate(PERMIT, tokens[role])).body.decision, role).toBe(true);
      }
    });

    it('echoes X-Request-ID on refusals too', async () => {
      const unauthenticated = await raw(EVALUATION, JSON.stringify(PERMIT), {
        authorization: '',
        'x-request-id': 'req-401',
      });
      expect(unauthenticated.status).toBe(401);
      expect(unauthenticated.headers['x-request-id']).toBe('req-401');
      const forbidden = await raw(EVALUATION, JSON.stringify(PERMIT), {
        authorization: `Bearer ${tokens.auditor}`,
        'x-request-id': 'req-403',
      });
      expect(forbidden.status).toBe(403);
      expect(forbidden.headers['x-request-id']).toBe('req-403');
    });

    it('serves the PDP metadata without a token', async () => {
      const response = await api(fx, 'GET', '/.well-known/authzen-configuration', undefined, null);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        policy_decision_point: 'http://gatehouse.test',
        access_evaluation_endpoint: 'http://gatehouse.test/access/v1/evaluation',
        access_evaluations_endpoint: 'http://gatehouse.test/access/v1/evaluations',
      });
      expect(response.headers['x-request-id']).toMatch(/\S/);
    });
  });

  describe('malformed requests', () => {
    it('refuses a body that is not JSON, or not a JSON object', async () => {
      expect((await raw(EVALUATION, 'subject=alice')).body).toMatchObject({
        status: 400,
        code: 'invalid_request',
      });
      for (const payload of ['[]', '"alice"', '42', 'null', 'true', '[{"subject": {}}]']) {
        for (const url of [EVALUATION, EVALUATIONS]) {
          const response = await raw(url, payload);
          expect(response.status, payload).toBe(400);
          expect(response.body.code, payload).toBe('validation_failed');
        }
      }
    });

    it('names every missing or mistyped field', async () => {
      const response = await evaluate({ subject: { type: 'user' }, action: { name: 7 }, context: [] });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.details.issues).toEqual([
        { path: 'subject.id', message: 'is required' },
        { path: 'action.name', message: 'must be a string' },
        { path: 'resource', message: 'is required' },
        { path: 'context', message: 'must be a JSON object' },
      ]);
      const batch = await evaluateMany({
        evaluations: 'all of them',
        options: { evaluations_semantic: 'some' },
      });
      expect(batch.status).toBe(400);
      expect(batch.body.details.issues.map((issue: { path: string }) => issue.path)).toEqual([
        'evaluations',
        'options.evaluations_semantic',
      ]);
    });

    it('refuses empty identifiers and properties that are not objects', async () => {
      for (const body of [
        { ...PERMIT, subject: { type: 'user', id: '' } },
        { ...PERMIT, resource: { type: 'report', id: 'q3', properties: [1, 2] } },
        { ...PERMIT, action: { name: 'read', properties: 'soft' } },
        { ...PERMIT, subject: { type: 'user', id: 'x'.repeat(1025) } },
      ]) {
        expect((await evaluate(body)).status).toBe(400);
      }
    });

    it('refuses a top-level default that is malformed even when every item overrides it', async () => {
      const response = await evaluateMany({ subject: 'alice', evaluations: [PERMIT] });
      expect(response.status).toBe(400);
      expect(response.body.details.issues[0].path).toBe('subject');
    });

    it('refuses a body over the size limit with 413', async () => {
      const huge = { ...PERMIT, context: { ip: '10.0.0.1', padding: 'x'.repeat(70 * 1024) } };
      const response = await evaluate(huge);
      expect(response.status).toBe(413);
      expect(response.body).toMatchObject({ code: 'body_too_large' });
    });

    it('refuses deep nesting before using the body', async () => {
      let nested: unknown = 'bottom';
      for (let level = 0; level < 100; level += 1) nested = { next: nested };
      const deep = await evaluate({ ...PERMIT, subject: { type: 'user', id: 'a', properties: { nested } } });
      expect(deep.status).toBe(400);
      expect(deep.body.detail).toContain('deeper than 64');
      // Near the body limit: tens of thousands of levels, answered without a stack overflow.
      const brackets = `{"subject": ${'['.repeat(30_000)}${']'.repeat(30_000)}}`;
      const hostile = await raw(EVALUATION, brackets);
      expect(hostile.status).toBe(400);
      const batch = await raw(EVALUATIONS, `{"evaluations": [${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}]}`);
      expect(batch.status).toBe(400);
    });

    it('refuses prototype poisoning', async () => {
      const payload = `{"subject": {"type": "user", "id": "a", "properties": {"__proto__": {"admin": true}}},
        "action": {"name": "read"}, "resource": {"type": "report", "id": "q3"}}`;
      const response = await raw(EVALUATION, payload);
      expect(response.status).toBe(400);
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
    });

    it('refuses more than 1000 evaluations in one request', async () => {
      const response = await evaluateMany({
        ...PERMIT,
        evaluations: Array.from({ length: 1001 }, () => ({})),
      });
      expect(response.status).toBe(400);
      expect(response.body.details.issues[0]).toMatchObject({ path: 'evaluations' });
      const most = await evaluateMany({ ...PERMIT, evaluations: Array.from({ length: 1000 }, () => ({})) });
      expect(most.status).toBe(200);
      expect(most.body.evaluations).toHaveLength(1000);
    });

    it('answers an item that is incomplete after the defaults in its place, decision false', async () => {
      const response = await evaluateMany({
        subject: PERMIT.subject,
        evaluations: [{ action: PERMIT.action, resource: PERMIT.resource, context: PERMIT.context }, {}, 'x'],
      });
      expect(response.status).toBe(200);
      expect(response.body.evaluations).toEqual([
        expect.objectContaining({ decision: true }),
        {
          decision: false,
          context: {
            error: {
              status: 400,
              code: 'validation_failed',
              message: expect.stringMatching(
                /`evaluations\.1`.*`action` is required; `resource` is required/,
              ),
            },
          },
        },
        {
          decision: false,
          context: { error: expect.objectContaining({ message: '`evaluations.2` must be a JSON object' }) },
        },
      ]);
    });
  });

  describe('evaluations_semantic', () => {
    const decisionsOf = (body: { evaluations: Array<{ decision: boolean }> }) =>
      body.evaluations.map((item) => item.decision);
    const batch = (items: unknown[], semantic?: string) =>
      evaluateMany({
        evaluations: items,
        ...(semantic ? { options: { evaluations_semantic: semantic } } : {}),
      });

    it('executes every item by default and with execute_all', async () => {
      expect(decisionsOf((await batch([PERMIT, DENY, PERMIT])).body)).toEqual([true, false, true]);
      expect(decisionsOf((await batch([PERMIT, DENY, PERMIT], 'execute_all')).body)).toEqual([
        true,
        false,
        true,
      ]);
    });

    it('deny_on_first_deny stops after the first deny and includes it', async () => {
      expect(decisionsOf((await batch([PERMIT, DENY, PERMIT], 'deny_on_first_deny')).body)).toEqual([
        true,
        false,
      ]);
      expect(decisionsOf((await batch([DENY, PERMIT], 'deny_on_first_deny')).body)).toEqual([false]);
      expect(decisionsOf((await batch([PERMIT, PERMIT], 'deny_on_first_deny')).body)).toEqual([true, true]);
      // A failed item is a deny.
      const failed = (await batch([PERMIT, {}, PERMIT], 'deny_on_first_deny')).body.evaluations;
      expect(failed).toHaveLength(2);
      expect(failed[1]).toMatchObject({ decision: false, context: { error: { status: 400 } } });
    });

    it('permit_on_first_permit stops after the first permit and includes it', async () => {
      expect(decisionsOf((await batch([PERMIT, DENY, PERMIT], 'permit_on_first_permit')).body)).toEqual([
        true,
      ]);
      expect(decisionsOf((await batch([DENY, {}, PERMIT, DENY], 'permit_on_first_permit')).body)).toEqual([
        false,
        false,
        true,
      ]);
      expect(decisionsOf((await batch([DENY, DENY], 'permit_on_first_permit')).body)).toEqual([false, false]);
    });

    it('ignores options it does not know', async () => {
      const response = await evaluateMany({ evaluations: [PERMIT], options: { another_option: 'value' } });
      expect(decisionsOf(response.body)).toEqual([true]);
    });
  });

  describe('mapping onto the policy engine', () => {
    it('audits every decision with the caller, subject, action, resource and rules', async () => {
      await evaluate(agentCall('invoice-bot', 'erp.create_invoice', { amount: 500 }));
      const entries = await fx.gatehouse.store.audit.list(0, 100_000);
      const last = entries.filter((entry) => entry.action === 'authzen.decision').at(-1);
      expect(last).toMatchObject({
        actor: expect.stringMatching(/^admin:/),
        target: 'tool:erp.create_invoice',
        details: {
          subject: { type: 'agent', id: 'invoice-bot' },
          action: 'call',
          decision: true,
          effect: 'allow',
          ruleIds: ['invoices-small'],
        },
      });
    });

    it('decides a tool call of a registered agent, by name or by id', async () => {
      for (const ref of ['invoice-bot', invoiceBotId]) {
        const response = await evaluate(agentCall(ref, 'erp.create_invoice', { amount: 500 }));
        expect(response.body).toEqual({
          decision: true,
          context: {
            reason_admin: { en: 'invoice-bot files invoices up to 1000' },
            effect: 'allow',
            code: 'allowed',
            rule_ids: ['invoices-small'],
            policy_version: expect.stringMatching(/^v\d+$/),
          },
        });
      }
    });

    it('answers an approve as decision false: the caller cannot wait for a human', async () => {
      const response = await evaluate(agentCall('invoice-bot', 'erp.create_invoice', { amount: 5000 }));
      expect(response.body).toMatchObject({
        decision: false,
        context: { effect: 'approve', code: 'approval_required', rule_ids: ['invoices-large-need-approval'] },
      });
      expect(response.body.context.approvers).toBe(2);
      expect(response.body.context.reason_admin.en).toMatch(/^approval required .*cannot wait/);
    });

    it('answers a flag as decision true, and says it was flagged', async () => {
      const response = await evaluate(agentCall('invoice-bot', 'web.fetch', { url: 'https://example.com' }));
      expect(response.body).toMatchObject({
        decision: true,
        context: { effect: 'flag', code: 'flagged', rule_ids: ['web-fetch-watched'] },
      });
    });

    it('uses the registry: team and labels come from the agent record, not from the caller', async () => {
      const call = agentCall('invoice-bot', 'crm.get_order', { customer: 'acme' });
      expect((await evaluate({ ...call, context: { scope: { customer: 'acme' } } })).body.decision).toBe(
        true,
      );
      expect((await evaluate({ ...call, context: { scope: { customer: 'globex' } } })).body.decision).toBe(
        false,
      );
      expect((await evaluate(call)).body.decision).toBe(false);
      // The same id as a `user` subject has no team: the team rule does not apply.
      const asUser = {
        ...call,
        subject: { type: 'user', id: 'invoice-bot' },
        context: { scope: { customer: 'acme' } },
      };
      expect((await evaluate(asUser)).body).toMatchObject({
        decision: false,
        context: { code: 'no_matching_rule' },
      });
    });

    it('refuses unknown and inactive agents whatever the policy says', async () => {
      expect((await evaluate(agentCall('ghost-bot', 'web.fetch'))).body).toMatchObject({
        decision: false,
        context: { code: 'agent_not_found', effect: 'deny', rule_ids: [] },
      });
      expect((await evaluate(agentCall('old-bot', 'web.fetch'))).body).toMatchObject({
        decision: false,
        context: { code: 'agent_inactive', reason_admin: { en: 'agent `old-bot` is suspended' } },
      });
    });

    it('gives a tool resource no action but `call`', async () => {
      const response = await evaluate(
        agentCall('invoice-bot', 'erp.create_invoice', { amount: 1 }, 'delete'),
      );
      expect(response.body).toMatchObject({ decision: false, context: { code: 'unsupported_action' } });
    });

    it('decides any other resource as `<type>.<action>` with the request in call.args', async () => {
      expect((await evaluate(PERMIT)).body).toMatchObject({
        decision: true,
        context: { rule_ids: ['reports-from-the-office'] },
      });
      expect((await evaluate(DENY)).body).toMatchObject({
        decision: false,
        context: { code: 'no_matching_rule' },
      });
      const confidential = {
        ...PERMIT,
        resource: { type: 'report', id: 'q4', properties: { classification: 'confidential' } },
      };
      expect((await evaluate(confidential)).body).toMatchObject({
        decision: false,
        context: { code: 'policy_denied', rule_ids: ['reports-confidential'] },
      });
      const cleared = { ...confidential, subject: { ...PERMIT.subject, properties: { clearance: 'high' } } };
      expect((await evaluate(cleared)).body.decision).toBe(true);
      // An agent subject reads reports too, from the same network.
      expect(
        (await evaluate({ ...PERMIT, subject: { type: 'agent', id: 'invoice-bot' } })).body.decision,
      ).toBe(true);
    });

    it('denies when a condition cannot be evaluated', async () => {
      const response = await evaluate({
        subject: { type: 'user', id: 'carol' },
        action: { name: 'experiment' },
        resource: { type: 'lab', id: 'one' },
      });
      expect(response.body).toMatchObject({
        decision: false,
        context: { code: 'policy_eval_error', rule_ids: ['broken-condition'] },
      });
    });

    it('decides a batch with one bundle, looking each agent up once', async () => {
      const response = await evaluateMany({
        subject: { type: 'agent', id: 'invoice-bot' },
        action: { name: 'call' },
        evaluations: [
          { resource: { type: 'tool', id: 'erp.create_invoice', properties: { args: { amount: 10 } } } },
          { resource: { type: 'tool', id: 'erp.create_invoice', properties: { args: { amount: 10_000 } } } },
          { resource: { type: 'tool', id: 'web.fetch' } },
          { subject: { type: 'agent', id: 'old-bot' }, resource: { type: 'tool', id: 'web.fetch' } },
        ],
      });
      expect(
        response.body.evaluations.map((item: { context: { code: string } }) => item.context.code),
      ).toEqual(['allowed', 'approval_required', 'flagged', 'agent_inactive']);
      const versions = new Set(
        response.body.evaluations
          .map((item: { context: { policy_version?: string } }) => item.context.policy_version)
          .filter(Boolean),
      );
      expect(versions.size).toBe(1);
    });
  });
});
