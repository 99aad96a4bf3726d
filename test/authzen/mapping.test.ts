/** The pure AuthZEN mapping: request parsing, AuthZEN -> DecisionInput, Decision -> AuthZEN, batch semantics. */
import { describe, expect, it } from 'vitest';
import {
  type AuthzenDecision,
  type AuthzenEvaluation,
  type BatchItem,
  decideEvaluation,
  exceedsJsonDepth,
  parseEvaluationRequest,
  parseEvaluationsRequest,
  pdpMetadata,
  principalOf,
  runEvaluations,
  toAuthzenDecision,
  toDecisionInput,
} from '../../src/authzen/index.js';
import { compileBundle, type Decision, emptySessionState } from '../../src/policy/index.js';
import { codeOfSync } from '../support/errors.js';

const NOW = Date.UTC(2026, 0, 1);
const alice = { type: 'user', id: 'alice' };
const read = { name: 'read' };
const record = { type: 'record', id: 'record-1' };

describe('parseEvaluationRequest', () => {
  it('keeps the 4-tuple and drops unknown fields at every level', () => {
    expect(
      parseEvaluationRequest({
        subject: { ...alice, properties: { role: 'admin' }, nickname: 'al' },
        action: { ...read, verb: 'GET' },
        resource: record,
        context: { ip: '10.0.0.1' },
        foo: 'bar',
      }),
    ).toEqual({
      subject: { type: 'user', id: 'alice', properties: { role: 'admin' } },
      action: { name: 'read' },
      resource: { type: 'record', id: 'record-1' },
      context: { ip: '10.0.0.1' },
    });
  });

  it('throws validation_failed for anything but a complete, well-typed request', () => {
    for (const body of [
      null,
      [],
      'alice',
      {},
      { subject: alice, action: read },
      { subject: { id: 'alice' }, action: read, resource: record },
      { subject: alice, action: {}, resource: record },
      { subject: alice, action: { name: 123 }, resource: record },
      { subject: 'alice', action: read, resource: record },
      { subject: alice, action: read, resource: record, context: 'now' },
      { subject: alice, action: read, resource: { ...record, properties: null } },
    ]) {
      expect(
        codeOfSync(() => parseEvaluationRequest(body)),
        JSON.stringify(body),
      ).toBe('validation_failed');
    }
  });
});

describe('parseEvaluationsRequest', () => {
  it('reads a request without evaluations, or with an empty array, as a single evaluation', () => {
    for (const body of [
      { subject: alice, action: read, resource: record },
      { subject: alice, action: read, resource: record, evaluations: [] },
    ]) {
      expect(parseEvaluationsRequest(body)).toEqual({
        kind: 'single',
        evaluation: { subject: alice, action: read, resource: record },
      });
    }
    expect(codeOfSync(() => parseEvaluationsRequest({ subject: alice, evaluations: [] }))).toBe(
      'validation_failed',
    );
  });

  it('applies top-level defaults whole: an item key replaces the default, never merges into it', () => {
    const parsed = parseEvaluationsRequest({
      subject: alice,
      action: { name: 'write' },
      resource: { ...record, properties: { status: 'active' } },
      context: { time: 'noon' },
      options: { evaluations_semantic: 'deny_on_first_deny' },
      evaluations: [{}, { resource: { type: 'record', id: 'record-2' }, context: { source: 'item' } }],
    });
    expect(parsed).toEqual({
      kind: 'batch',
      semantic: 'deny_on_first_deny',
      items: [
        {
          ok: true,
          evaluation: {
            subject: alice,
            action: { name: 'write' },
            resource: { ...record, properties: { status: 'active' } },
            context: { time: 'noon' },
          },
        },
        {
          ok: true,
          evaluation: {
            subject: alice,
            action: { name: 'write' },
            resource: { type: 'record', id: 'record-2' },
            context: { source: 'item' },
          },
        },
      ],
    });
  });

  it('fails an incomplete item in its place and the whole request only for top-level faults', () => {
    const parsed = parseEvaluationsRequest({
      subject: alice,
      evaluations: [{ action: read, resource: record }, {}],
    });
    expect(parsed.kind === 'batch' && parsed.items.map((item) => item.ok)).toEqual([true, false]);
    expect(parsed.kind === 'batch' && parsed.semantic).toBe('execute_all');
    for (const body of [
      { evaluations: {} },
      { evaluations: [{}], options: { evaluations_semantic: 'first' } },
      { evaluations: [{}], options: 'fast' },
      { action: { name: 1 }, evaluations: [{}] },
    ]) {
      expect(
        codeOfSync(() => parseEvaluationsRequest(body)),
        JSON.stringify(body),
      ).toBe('validation_failed');
    }
  });
});

describe('exceedsJsonDepth', () => {
  it('measures objects and arrays, and ignores scalars', () => {
    expect(exceedsJsonDepth('x', 0)).toBe(false);
    expect(exceedsJsonDepth({}, 0)).toBe(true);
    expect(exceedsJsonDepth({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(exceedsJsonDepth({ a: [{ b: 1 }] }, 2)).toBe(true);
  });

  it('measures a very deep value without recursion', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 200_000; level += 1) deep = [deep];
    expect(exceedsJsonDepth(deep)).toBe(true);
  });
});

describe('toDecisionInput', () => {
  it('maps a tool resource onto that tool call, with its args', () => {
    const mapped = toDecisionInput(
      {
        subject: { type: 'agent', id: 'invoice-bot' },
        action: { name: 'call' },
        resource: { type: 'tool', id: 'github.create_issue', properties: { args: { repo: 'acme/app' } } },
        context: { scope: { customer: 'acme' }, ip: '10.0.0.1' },
      },
      {
        now: NOW,
        registered: { id: 'agt_1', name: 'invoice-bot', team: 'payments', labels: {}, review: 'approved' },
      },
    );
    expect(mapped).toEqual({
      ok: true,
      input: {
        principal: {
          id: 'agt_1',
          name: 'invoice-bot',
          team: 'payments',
          labels: {},
          review: 'approved',
          properties: {},
        },
        call: { tool: 'github.create_issue', args: { repo: 'acme/app' } },
        session: { scope: { customer: 'acme' }, state: emptySessionState() },
        now: NOW,
      },
    });
  });

  it('gives a tool without args empty args, and refuses actions other than call', () => {
    const evaluation = {
      subject: alice,
      action: { name: 'call' },
      resource: { type: 'tool', id: 'web.fetch' },
    };
    const mapped = toDecisionInput(evaluation, { now: NOW });
    expect(mapped.ok && mapped.input.call).toEqual({ tool: 'web.fetch', args: {} });
    const odd = toDecisionInput(
      { ...evaluation, resource: { ...evaluation.resource, properties: { args: ['not', 'an', 'object'] } } },
      { now: NOW },
    );
    expect(odd.ok && odd.input.call.args).toEqual({});
    expect(toDecisionInput({ ...evaluation, action: { name: 'delete' } }, { now: NOW })).toMatchObject({
      ok: false,
      code: 'unsupported_action',
    });
  });

  it('maps any other resource onto `<type>.<action>` with the AuthZEN entities as args', () => {
    const mapped = toDecisionInput(
      {
        subject: { type: 'identity', id: 'pid-1', properties: { role: 'editor' } },
        action: { name: 'GET' },
        resource: { type: 'route', id: '/todos' },
      },
      { now: NOW },
    );
    expect(mapped).toEqual({
      ok: true,
      input: {
        principal: { id: 'pid-1', properties: { role: 'editor' } },
        call: {
          tool: 'route.GET',
          args: {
            subject: { type: 'identity', id: 'pid-1', properties: { role: 'editor' } },
            resource: { type: 'route', id: '/todos', properties: {} },
            action: { name: 'GET', properties: {} },
            context: {},
          },
        },
        session: { scope: {}, state: emptySessionState() },
        now: NOW,
      },
    });
  });

  it('takes the scope from context.scope only when it is an object', () => {
    for (const scope of ['acme', ['acme'], null]) {
      const mapped = toDecisionInput(
        { subject: alice, action: read, resource: record, context: { scope } },
        { now: NOW },
      );
      expect(mapped.ok && mapped.input.session.scope).toEqual({});
    }
  });
});

describe('principalOf', () => {
  it('keeps the registry facts of an agent and adds the subject properties', () => {
    expect(
      principalOf({ type: 'agent', id: 'bot', properties: { tier: 1 } }, { id: 'agt_1', name: 'bot' }),
    ).toEqual({
      id: 'agt_1',
      name: 'bot',
      properties: { tier: 1 },
    });
    expect(principalOf({ type: 'user', id: 'alice' })).toEqual({ id: 'alice', properties: {} });
  });
});

describe('toAuthzenDecision', () => {
  const base: Decision = {
    effect: 'allow',
    code: 'allowed',
    ruleIds: ['r1'],
    matched: [],
    reason: 'because',
    bundleVersion: 'v1',
  };

  it('permits allow and flag, refuses deny and approve, and explains itself in the context', () => {
    expect(toAuthzenDecision(base)).toEqual({
      decision: true,
      context: {
        reason_admin: { en: 'because' },
        effect: 'allow',
        code: 'allowed',
        rule_ids: ['r1'],
        policy_version: 'v1',
      },
    });
    expect(toAuthzenDecision({ ...base, effect: 'flag', code: 'flagged' }).decision).toBe(true);
    expect(toAuthzenDecision({ ...base, effect: 'deny', code: 'policy_denied' }).decision).toBe(false);
    const approve = toAuthzenDecision({
      ...base,
      effect: 'approve',
      code: 'approval_required',
      approval: { approvers: 2, ruleIds: ['r1'] },
    });
    expect(approve).toMatchObject({ decision: false, context: { effect: 'approve', approvers: 2 } });
    expect(approve.context && 'reason_admin' in approve.context && approve.context.reason_admin.en).toBe(
      'approval required (2 approver(s)), which an AuthZEN decision cannot wait for: because',
    );
  });
});

describe('decideEvaluation', () => {
  const bundle = compileBundle([
    {
      name: 'rules.yaml',
      text: `
rules:
  - id: agents-fetch
    tool: web.fetch
    principal: { teams: [platform] }
    effect: allow
  - id: users-read
    tool: record.read
    condition: call.args.subject.type == "user"
    effect: allow
`,
    },
  ]);
  const fetch: AuthzenEvaluation = {
    subject: { type: 'agent', id: 'fetcher' },
    action: { name: 'call' },
    resource: { type: 'tool', id: 'web.fetch' },
  };
  const registered = { id: 'agt_1', name: 'fetcher', team: 'platform' };

  it('decides a registered, active agent with its registry facts', () => {
    const agent = { found: true as const, active: true, state: 'active', principal: registered };
    expect(decideEvaluation(bundle, fetch, { now: NOW, agent }).decision).toBe(true);
  });

  it('refuses an agent subject that is unknown, not looked up, or not active', () => {
    expect(decideEvaluation(bundle, fetch, { now: NOW, agent: { found: false } }).context).toMatchObject({
      code: 'agent_not_found',
    });
    expect(decideEvaluation(bundle, fetch, { now: NOW }).context).toMatchObject({ code: 'agent_not_found' });
    const retired = { found: true as const, active: false, state: 'retired', principal: registered };
    expect(decideEvaluation(bundle, fetch, { now: NOW, agent: retired })).toMatchObject({
      decision: false,
      context: { code: 'agent_inactive', reason_admin: { en: 'agent `fetcher` is retired' } },
    });
  });

  it('decides other subjects on what the request says', () => {
    const evaluation = { subject: alice, action: read, resource: record };
    expect(decideEvaluation(bundle, evaluation, { now: NOW }).decision).toBe(true);
    expect(
      decideEvaluation(bundle, { ...evaluation, subject: { type: 'service', id: 'x' } }, { now: NOW }),
    ).toMatchObject({ decision: false, context: { code: 'no_matching_rule' } });
  });
});

describe('runEvaluations', () => {
  const item = (decision: boolean): BatchItem => ({
    ok: true,
    evaluation: { subject: alice, action: read, resource: { type: 'record', id: String(decision) } },
  });
  const broken: BatchItem = {
    ok: false,
    error: { status: 400, code: 'validation_failed', message: 'incomplete' },
  };
  const answer = (evaluation: AuthzenEvaluation): AuthzenDecision => ({
    decision: evaluation.resource.id === 'true',
  });

  it('answers in order under each semantic, stopping after the deciding item', async () => {
    const items = [item(true), item(false), broken, item(true)];
    const run = async (semantic: Parameters<typeof runEvaluations>[1], list = items) =>
      (await runEvaluations(list, semantic, answer)).map((result) => result.decision);
    expect(await run('execute_all')).toEqual([true, false, false, true]);
    expect(await run('deny_on_first_deny')).toEqual([true, false]);
    expect(await run('permit_on_first_permit')).toEqual([true]);
    expect(await run('deny_on_first_deny', [item(true), broken, item(false)])).toEqual([true, false]);
    expect(await run('permit_on_first_permit', [broken, item(false), item(true), item(true)])).toEqual([
      false,
      false,
      true,
    ]);
  });

  it('never evaluates what a short-circuit skips', async () => {
    const seen: string[] = [];
    await runEvaluations([item(false), item(true)], 'deny_on_first_deny', (evaluation) => {
      seen.push(evaluation.resource.id);
      return answer(evaluation);
    });
    expect(seen).toEqual(['false']);
  });

  it('answers a failed item with its error in the context', async () => {
    expect(await runEvaluations([broken], 'execute_all', answer)).toEqual([
      {
        decision: false,
        context: { error: { status: 400, code: 'validation_failed', message: 'incomplete' } },
      },
    ]);
  });
});

describe('pdpMetadata', () => {
  it('names the endpoints Gatehouse serves under its issuer', () => {
    expect(pdpMetadata('https://gatehouse.example.com/')).toEqual({
      policy_decision_point: 'https://gatehouse.example.com',
      access_evaluation_endpoint: 'https://gatehouse.example.com/access/v1/evaluation',
      access_evaluations_endpoint: 'https://gatehouse.example.com/access/v1/evaluations',
    });
  });
});
