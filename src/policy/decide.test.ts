import { describe, expect, it } from 'vitest';
import { checkBundle, compileBundle } from './compile.js';
import { decide, explain } from './decide.js';
import { type ReplayCall, replaySession } from './replay.js';
import { emptySessionState } from './session-state.js';
import type { Principal } from './types.js';

const TOOLS = `
tools:
  - match: fs.read_file
    labels: [reads:internal]
  - match: vault.read_secret
    labels: [reads:secret]
  - match: [web.fetch, email.read_inbox]
    labels: [reads:untrusted]
  - match: [http.post, email.send]
    labels: [egress]
  - match: shell.*
    labels: [exec]
  - match: [stripe.create_payment]
    labels: [payments, writes]
labels:
  sensitive-reads:
    includes: [reads:secret, reads:internal]
`;

const RULES = `
rules:
  - id: base-allow
    tool: [fs.*, vault.*, web.fetch, email.*, http.post, shell.run, shell.sudo, crm.get_order, stripe.*]
    effect: allow
  - id: read-then-post
    description: a file read followed by an HTTP post may be exfiltration
    tool: http.post
    after: { tool: fs.read_file, within: { steps: 5 } }
    effect: flag
  - id: shell-after-sudo
    tool: shell.run
    after: { tool: shell.sudo }
    effect: deny
    terminate: true
    reason: shell after a sudo attempt
  - id: no-sudo
    tool: shell.sudo
    effect: deny
  - id: untrusted-external-email
    tool: email.send
    taint: { integrity: [untrusted] }
    args:
      to: { email_domain_not_in: [corp.example] }
    effect: approve
    approvers: 2
  - id: no-secret-egress
    tool: { labels: [egress] }
    taint: [secret]
    effect: deny
  - id: customer-scope
    tool: crm.get_order
    condition: call.args.customer_id != session.scope.customer
    effect: deny
  - id: payments-per-session
    tool: { labels: [payments] }
    limit: { count: 3, per: session, of: { label: payments } }
    effect: deny
`;

const principal: Principal = { id: 'agt_1', name: 'helper', team: 'platform', review: 'approved' };
const bundle = compileBundle([
  { name: 'tools.yaml', text: TOOLS },
  { name: 'rules.yaml', text: RULES },
]);

function run(calls: Array<Omit<ReplayCall, 'at'> & { at?: number }>, scope: Record<string, unknown> = {}) {
  return replaySession(
    bundle,
    { principal, scope },
    calls.map((call, index) => ({ at: Date.UTC(2026, 0, 1) + index * 1000, ...call })),
  ).map((step) => step.decision);
}

describe('decide', () => {
  it('denies by default and says why', () => {
    const [decision] = run([{ tool: 'unknown.tool', args: {} }]);
    expect(decision).toMatchObject({ effect: 'deny', code: 'no_matching_rule', ruleIds: [] });
    expect(decision?.reason).toContain('default deny');
  });

  it('flags a file read followed by an HTTP post, but not a post alone', () => {
    const decisions = run([
      { tool: 'http.post', args: {} },
      { tool: 'fs.read_file', args: { path: '/a' } },
      { tool: 'http.post', args: {} },
    ]);
    expect(decisions.map((decision) => decision?.effect)).toEqual(['allow', 'allow', 'flag']);
    expect(decisions[2]?.ruleIds).toEqual(['read-then-post']);
  });

  it('forgets the read once it is outside the step window', () => {
    const decisions = run([
      { tool: 'fs.read_file', args: {} },
      ...Array.from({ length: 5 }, () => ({ tool: 'web.fetch', args: {} })),
      { tool: 'http.post', args: {} },
    ]);
    expect(decisions.at(-1)?.effect).toBe('allow');
  });

  it('denies a shell after a denied sudo attempt and ends the session', () => {
    const decisions = run([
      { tool: 'shell.run', args: {} },
      { tool: 'shell.sudo', args: {} },
      { tool: 'shell.run', args: {} },
      { tool: 'fs.read_file', args: {} },
    ]);
    expect(decisions.map((decision) => decision?.code)).toEqual([
      'allowed',
      'policy_denied',
      'policy_denied',
      'session_terminated',
    ]);
    expect(decisions[2]?.terminate).toBe(true);
    expect(decisions[3]?.ruleIds).toEqual(['shell-after-sudo']);
  });

  it('needs two approvals for external email after untrusted content, not before, not for internal mail', () => {
    const decisions = run([
      { tool: 'email.send', args: { to: 'bob@partner.example' } },
      { tool: 'web.fetch', args: {} },
      { tool: 'email.send', args: { to: 'alice@corp.example' } },
      { tool: 'email.send', args: { to: ['alice@corp.example', 'Eve <eve@evil.example>'] } },
    ]);
    expect(decisions.map((decision) => decision?.effect)).toEqual(['allow', 'allow', 'allow', 'approve']);
    expect(decisions[3]?.approval).toEqual({ approvers: 2, ruleIds: ['untrusted-external-email'] });
  });

  it('blocks egress once the session has read a secret, even long after', () => {
    const decisions = run([
      { tool: 'vault.read_secret', args: {} },
      ...Array.from({ length: 200 }, () => ({ tool: 'fs.read_file', args: {} })),
      { tool: 'email.send', args: { to: 'a@corp.example' } },
    ]);
    expect(decisions.at(-1)).toMatchObject({ effect: 'deny', ruleIds: ['no-secret-egress'] });
  });

  it('keeps a support agent to its customer scope', () => {
    const decisions = run(
      [
        { tool: 'crm.get_order', args: { customer_id: 'A', order: 1 } },
        { tool: 'crm.get_order', args: { customer_id: 'B', order: 2 } },
      ],
      { customer: 'A' },
    );
    expect(decisions.map((decision) => decision?.effect)).toEqual(['allow', 'deny']);
  });

  it('allows at most three payments per session, counting only payments that ran', () => {
    const payment = { tool: 'stripe.create_payment', args: { amount: 10 } };
    const decisions = run([payment, payment, payment, payment, payment]);
    expect(decisions.map((decision) => decision?.effect)).toEqual([
      'allow',
      'allow',
      'allow',
      'deny',
      'deny',
    ]);
  });

  it('denies with policy_eval_error when a CEL condition cannot be evaluated, never allows', () => {
    const [decision] = run([{ tool: 'crm.get_order', args: { order: 1 } }], { customer: 'A' });
    expect(decision).toMatchObject({
      effect: 'deny',
      code: 'policy_eval_error',
      ruleIds: ['customer-scope'],
    });
  });

  it('puts deny above approve above flag above allow', () => {
    const layered = compileBundle([
      { name: 't.yaml', text: TOOLS },
      {
        name: 'r.yaml',
        text: `
rules:
  - { id: a, tool: x.y, effect: allow }
  - { id: f, tool: x.y, effect: flag }
  - { id: p, tool: x.y, effect: approve }
  - { id: d, tool: x.y, effect: deny, args: { n: { min: 5 } } }
`,
      },
    ]);
    const input = (n: number) => ({
      principal,
      call: { tool: 'x.y', args: { n } },
      session: { scope: {}, state: emptySessionState() },
      now: 0,
    });
    expect(decide(layered, input(1)).effect).toBe('approve');
    expect(decide(layered, input(9)).effect).toBe('deny');
    const explained = explain(layered, input(1));
    expect(explained.decision).toEqual(decide(layered, input(1)));
    expect(explained.rules.map((rule) => [rule.ruleId, rule.outcome, rule.detail])).toEqual([
      ['d', 'not_matched', 'args.n'],
      ['p', 'matched', undefined],
      ['f', 'skipped', undefined],
      ['a', 'skipped', undefined],
    ]);
  });

  it('matches principals by id or name, team, labels and review status', () => {
    const scoped = compileBundle([
      {
        name: 'r.yaml',
        text: `
rules:
  - id: prod-reviewed
    principal: { teams: [platform], labels: { env: [prod, staging] }, review: [approved] }
    tool: x.y
    effect: allow
`,
      },
    ]);
    const input = (who: Principal) => ({
      principal: who,
      call: { tool: 'x.y', args: {} },
      session: { scope: {}, state: emptySessionState() },
      now: 0,
    });
    expect(decide(scoped, input({ ...principal, labels: { env: 'prod' } })).effect).toBe('allow');
    expect(decide(scoped, input({ ...principal, labels: { env: 'dev' } })).effect).toBe('deny');
    expect(
      decide(scoped, input({ ...principal, labels: { env: 'prod' }, review: 'unreviewed' })).effect,
    ).toBe('deny');
  });
});

describe('compile errors', () => {
  const problemsOf = (text: string) => {
    const result = checkBundle([
      { name: 'tools.yaml', text: TOOLS },
      { name: 'bad.yaml', text },
    ]);
    return result.ok ? [] : result.problems;
  };

  it('names file, line and rule id for an unknown field', () => {
    expect(problemsOf('rules:\n  - id: r1\n    tool: x\n    efect: allow\n')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          file: 'bad.yaml',
          line: 2,
          ruleId: 'r1',
          message: expect.stringContaining('efect'),
        }),
      ]),
    );
  });

  it('rejects a rule with no effect', () => {
    expect(problemsOf('rules:\n  - id: r1\n    tool: x\n')[0]).toMatchObject({
      ruleId: 'r1',
      path: 'rules.0.effect',
    });
  });

  it('rejects CEL that does not parse or names an unknown variable', () => {
    expect(
      problemsOf('rules:\n  - { id: r1, effect: allow, condition: "call.args.x ==" }\n')[0]?.message,
    ).toMatch(/CEL/);
    expect(
      problemsOf('rules:\n  - { id: r2, effect: allow, condition: "secrets.x == 1" }\n')[0],
    ).toMatchObject({
      ruleId: 'r2',
      line: 2,
    });
  });

  it('rejects duplicate ids across files, label cycles, unknown labels and taints', () => {
    const messages = problemsOf(`
labels:
  a: { includes: [b] }
  b: { includes: [a] }
rules:
  - { id: base-allow, effect: allow }
  - { id: r1, effect: deny, tool: { labels: [egres] } }
  - { id: r2, effect: deny, taint: [secrt] }
`).map((problem) => problem.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringContaining('cycle'),
        expect.stringContaining('label `egres`'),
        expect.stringContaining('taint `secrt`'),
      ]),
    );
    const duplicate = checkBundle([
      { name: 'one.yaml', text: 'rules:\n  - { id: same, effect: allow }\n' },
      { name: 'two.yaml', text: 'rules:\n  - { id: same, effect: deny }\n' },
    ]);
    expect(duplicate.ok ? [] : duplicate.problems).toEqual([
      expect.objectContaining({
        file: 'two.yaml',
        ruleId: 'same',
        message: expect.stringContaining('one.yaml:2'),
      }),
    ]);
  });

  it('reports YAML syntax errors with their line and throws policy_invalid from compileBundle', () => {
    expect(problemsOf('rules:\n  - id: r1\n   effect: [\n')[0]).toMatchObject({ file: 'bad.yaml' });
    expect(() => compileBundle([{ name: 'x.yaml', text: 'rules: 5' }])).toThrow(
      expect.objectContaining({ code: 'policy_invalid' }),
    );
  });
});
