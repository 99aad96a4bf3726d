import { describe, expect, it } from 'vitest';
import { compileBundle } from './compile.js';
import { formatLintReport, type LintOptions, type LintPath, lintBundle } from './lint.js';
import type { PolicySource } from './parse-sources.js';
import { replaySession } from './replay.js';
import type { Principal } from './types.js';

const TOOLS = `
tools:
  - match: vault.read_secret
    labels: [reads:secret]
  - match: [web.fetch, email.read_inbox]
    labels: [reads:untrusted]
  - match: http.*
    labels: [egress]
  - match: http.internal_post
    labels: [internal]
  - match: stripe.create_payment
    labels: [payments]
  - match: "{shell,ssh}.*"
    labels: [exec]
`;

// Line numbers matter: the report cites them.
const RULES = `rules:
  - id: agents-allow
    principal: { agents: [coder, guarded, reviewed] }
    tool: [vault.read_secret, web.fetch, http.*, stripe.create_payment]
    effect: allow
  - id: guarded-no-secret-egress
    principal: { agents: [guarded] }
    tool: { labels: [egress] }
    taint: [secret]
    effect: deny
  - id: reviewed-approve-egress
    principal: { agents: [reviewed] }
    tool: { labels: [egress] }
    taint: [secret]
    effect: approve
  - id: no-pay-after-untrusted
    tool: { labels: [payments] }
    after: { label: reads:untrusted, within: { steps: 10 } }
    effect: deny
  - id: ops-allow
    principal: { teams: [ops] }
    tool: [web.fetch, shell.*, ssh.*]
    effect: allow
  - id: ops-no-ssh-when-untrusted
    principal: { teams: [ops] }
    tool: ssh.*
    taint: { integrity: [untrusted] }
    effect: deny
`;

const SOURCES: PolicySource[] = [
  { name: 'tools.yaml', text: TOOLS },
  { name: 'rules.yaml', text: RULES },
];

function lint(sources: PolicySource[], options: LintOptions = {}) {
  return lintBundle(compileBundle(sources), options);
}

function principalOf(report: ReturnType<typeof lint>, label: string) {
  const entry = report.principals.find((candidate) => candidate.label === label);
  if (!entry) throw new Error(`no principal \`${label}\` in the report`);
  return entry;
}

const route = (path: LintPath) => `${path.pair.source} -> ${path.pair.sink}: ${path.source} -> ${path.sink}`;

const AGENTS_ALLOW = { id: 'agents-allow', effect: 'allow', file: 'rules.yaml', line: 2 } as const;

describe('lintBundle', () => {
  const report = lint(SOURCES);

  it('analyses every named agent and team plus any agent, and only the pairs the bundle uses', () => {
    expect(report.principals.map((entry) => entry.label)).toEqual([
      'agent coder',
      'agent guarded',
      'agent reviewed',
      'team ops',
      'any agent',
    ]);
    expect(report.pairs).toEqual([
      { source: 'reads:secret', sink: 'egress' },
      { source: 'reads:untrusted', sink: 'payments' },
      { source: 'reads:untrusted', sink: 'exec' },
      { source: 'reads:untrusted', sink: 'egress' },
    ]);
    expect(report.skippedPairs.map((pair) => pair.source)).toEqual([
      'reads:pii',
      'reads:internal',
      'reads:untrusted',
    ]);
    expect(report.warnings).toEqual([]);
  });

  it('stands a glob entry in for its tools by its own text, braces spelled out', () => {
    expect(report.tools).toEqual([
      'email.read_inbox',
      'http.*',
      'http.internal_post',
      'shell.*',
      'ssh.*',
      'stripe.create_payment',
      'vault.read_secret',
      'web.fetch',
    ]);
    expect(report.unanalysedPatterns).toEqual([]);
  });

  it('reports reads:secret -> egress for an agent whose rules allow both, with the allowing rules', () => {
    const coder = principalOf(report, 'agent coder');
    expect(coder.toxic.filter((path) => path.pair.source === 'reads:secret')).toEqual([
      {
        pair: { source: 'reads:secret', sink: 'egress' },
        source: 'vault.read_secret',
        sink: 'http.*',
        sourceAllowedBy: [AGENTS_ALLOW],
        sinkAllowedBy: [AGENTS_ALLOW],
      },
      {
        // Named by its own tool entry, allowed through the rule's `http.*` glob.
        pair: { source: 'reads:secret', sink: 'egress' },
        source: 'vault.read_secret',
        sink: 'http.internal_post',
        sourceAllowedBy: [AGENTS_ALLOW],
        sinkAllowedBy: [AGENTS_ALLOW],
      },
    ]);
  });

  it('does not report secret egress for an agent with a taint deny on egress', () => {
    const guarded = principalOf(report, 'agent guarded');
    expect(guarded.toxic.map(route)).toEqual([
      'reads:untrusted -> exec: web.fetch -> shell.*',
      'reads:untrusted -> egress: web.fetch -> http.*',
      'reads:untrusted -> egress: web.fetch -> http.internal_post',
    ]);
    expect(guarded.gated).toEqual([]);
    expect(guarded.windowed.map(route)).toEqual([
      'reads:untrusted -> payments: web.fetch -> stripe.create_payment',
    ]);
  });

  it('lists secret egress as gated for an agent with an approve rule, naming the rule', () => {
    const reviewed = principalOf(report, 'agent reviewed');
    expect(reviewed.toxic.map((path) => path.pair.source)).not.toContain('reads:secret');
    const gate = {
      id: 'reviewed-approve-egress',
      effect: 'approve',
      file: 'rules.yaml',
      line: 11,
      at: 'sink',
    };
    expect(reviewed.gated).toEqual(
      ['http.*', 'http.internal_post'].map((sink) => ({
        pair: { source: 'reads:secret', sink: 'egress' },
        source: 'vault.read_secret',
        sink,
        sourceAllowedBy: [AGENTS_ALLOW],
        sinkAllowedBy: [AGENTS_ALLOW],
        gatedBy: [gate],
      })),
    );
  });

  it('does not count untrusted -> payments as toxic when an after rule denies it, but lists it as windowed', () => {
    const coder = principalOf(report, 'agent coder');
    expect(coder.toxic.map((path) => path.pair.sink)).not.toContain('payments');
    expect(coder.windowed).toEqual([
      {
        pair: { source: 'reads:untrusted', sink: 'payments' },
        source: 'web.fetch',
        sink: 'stripe.create_payment',
        sourceAllowedBy: [AGENTS_ALLOW],
        sinkAllowedBy: [AGENTS_ALLOW],
        blockedBy: [{ id: 'no-pay-after-untrusted', effect: 'deny', file: 'rules.yaml', line: 16 }],
      },
    ]);
  });

  it('drops the after-denied path entirely once the deny is taint-based', () => {
    const sources = [
      { name: 'tools.yaml', text: TOOLS },
      {
        name: 'rules.yaml',
        text: RULES.replace('after: { label: reads:untrusted, within: { steps: 10 } }', 'taint: [untrusted]'),
      },
    ];
    const coder = principalOf(lint(sources), 'agent coder');
    expect([...coder.toxic, ...coder.gated, ...coder.windowed].map((path) => path.pair.sink)).not.toContain(
      'payments',
    );
    expect(coder.toxic.map((path) => path.pair.sink)).toContain('egress');
  });

  it('applies team-scoped rules to the team, and to an agent only in a team it may belong to', () => {
    const ops = principalOf(report, 'team ops');
    // ssh.* is denied for ops once the session is untrusted; shell.* is not; egress is not allowed at all.
    expect(ops.toxic.map(route)).toEqual(['reads:untrusted -> exec: web.fetch -> shell.*']);
    expect(ops.toxic[0]?.sourceAllowedBy.map((ref) => ref.id)).toEqual(['ops-allow']);
    // An agent of unknown team may be in ops: the path is reported, saying so; the ops deny then holds too.
    const coderExec = principalOf(report, 'agent coder').toxic.filter((path) => path.pair.sink === 'exec');
    expect(coderExec.map((path) => [route(path), path.ifTeam])).toEqual([
      ['reads:untrusted -> exec: web.fetch -> shell.*', 'ops'],
    ]);
    expect(coderExec[0]?.sourceAllowedBy.map((ref) => ref.id)).toEqual(['agents-allow', 'ops-allow']);
    expect(principalOf(report, 'agent coder').toxic.filter((path) => path.ifTeam !== undefined)).toHaveLength(
      1,
    );
    const placed = lint(SOURCES, {
      principals: [
        { kind: 'agent', name: 'coder', team: 'dev' },
        { kind: 'agent', name: 'coder', team: 'ops' },
      ],
    });
    expect(placed.principals.map((entry) => entry.label)).toEqual([
      'agent coder (team dev)',
      'agent coder (team ops)',
    ]);
    expect(placed.principals[0]?.toxic.map((path) => path.pair.sink)).toEqual([
      'egress',
      'egress',
      'egress',
      'egress',
    ]);
    expect(placed.principals[1]?.toxic.filter((path) => path.pair.sink === 'exec').map(route)).toEqual([
      'reads:untrusted -> exec: web.fetch -> shell.*',
    ]);
    expect(placed.principals[1]?.toxic.some((path) => path.ifTeam !== undefined)).toBe(false);
  });

  it('agrees with decide: each reported path replays as reported for a concrete agent', () => {
    const bundle = compileBundle(SOURCES);
    const effects = (principal: Principal, tools: string[]) =>
      replaySession(
        bundle,
        { principal },
        tools.map((tool, index) => ({ tool, args: {}, at: Date.UTC(2026, 0, 1) + index * 1000 })),
      ).map((step) => step.decision.effect);
    let checked = 0;
    for (const entry of report.principals) {
      if (entry.principal.kind !== 'agent') continue;
      const { name } = entry.principal;
      for (const path of entry.toxic) {
        const principal = { id: name, ...(path.ifTeam === undefined ? {} : { team: path.ifTeam }) };
        expect(effects(principal, [path.source, path.sink]), route(path)).toEqual(['allow', 'allow']);
        checked += 1;
      }
      for (const path of entry.gated) {
        expect(effects({ id: name }, [path.source, path.sink]), route(path)).toEqual(['allow', 'approve']);
        checked += 1;
      }
      for (const path of entry.windowed) {
        const padding = Array.from({ length: 10 }, () => 'unknown.tool');
        expect(effects({ id: name }, [path.source, path.sink]), route(path)).toEqual(['allow', 'deny']);
        expect(effects({ id: name }, [path.source, ...padding, path.sink]).at(-1), route(path)).toBe('allow');
        checked += 1;
      }
    }
    expect(checked).toBe(16);
    // And a path it calls blocked really is blocked.
    expect(effects({ id: 'guarded' }, ['vault.read_secret', 'http.post'])).toEqual(['allow', 'deny']);
  });

  it('finds nothing for any agent when no rule allows unnamed agents (default deny)', () => {
    const anyAgent = principalOf(report, 'any agent');
    expect(anyAgent).toEqual({
      principal: { kind: 'any' },
      label: 'any agent',
      toxic: [],
      gated: [],
      windowed: [],
    });
  });

  it('reports any agent once an unscoped rule allows the source and the sink', () => {
    const open = lint([
      { name: 'tools.yaml', text: TOOLS },
      {
        name: 'open.yaml',
        text: 'rules:\n  - { id: everyone, tool: [vault.*, http.post], effect: allow }\n',
      },
    ]);
    expect(open.principals.map((entry) => entry.label)).toEqual(['any agent']);
    // vault.read_secret is only reachable through the vault.* rule glob; http.post only by its exact name.
    expect(open.principals[0]?.toxic.map(route)).toEqual([
      'reads:secret -> egress: vault.read_secret -> http.post',
    ]);
  });

  it('ignores deny rules that may not fire (arguments, CEL) and respects unconditional denies on the source', () => {
    const extra = `rules:
  - { id: allow-all, effect: allow }
  - { id: big-posts, tool: http.*, args: { size: { min: 1000 } }, effect: deny }
  - { id: odd-posts, tool: http.*, condition: "session.step > 3", effect: deny }
  - { id: no-vault-for-guest, principal: { agents: [guest] }, tool: vault.*, effect: deny }
`;
    const result = lint([
      { name: 'tools.yaml', text: TOOLS },
      { name: 'extra.yaml', text: extra },
    ]);
    const secretEgress = (label: string) =>
      principalOf(result, label)
        .toxic.filter((path) => path.pair.source === 'reads:secret')
        .map(route);
    expect(secretEgress('any agent')).toEqual([
      'reads:secret -> egress: vault.read_secret -> http.*',
      'reads:secret -> egress: vault.read_secret -> http.internal_post',
    ]);
    expect(secretEgress('agent guest')).toEqual([]);
  });

  it('treats a (conditional) approve rule that is the only way in as a gate on the source', () => {
    const text = `rules:
  - { id: allow-egress, tool: { labels: [egress] }, effect: allow }
  - { id: approve-vault, tool: vault.read_secret, args: { ttl: { max: 60 } }, effect: approve }
`;
    const result = lint([
      { name: 'tools.yaml', text: TOOLS },
      { name: 'r.yaml', text },
    ]);
    const anyAgent = principalOf(result, 'any agent');
    expect(anyAgent.toxic).toEqual([]);
    expect(
      anyAgent.gated.map((path) => [route(path), path.sourceAllowedBy, path.gatedBy.map((gate) => gate.at)]),
    ).toEqual([
      ['reads:secret -> egress: vault.read_secret -> http.*', [], ['source']],
      ['reads:secret -> egress: vault.read_secret -> http.internal_post', [], ['source']],
    ]);
  });

  it('analyses custom pairs and a tool that is both source and sink', () => {
    const text = `
tools:
  - { match: browser.open, labels: [reads:untrusted, egress] }
rules:
  - { id: browse, tool: browser.open, effect: allow }
`;
    const result = lint([{ name: 'b.yaml', text }], {
      pairs: [
        { source: 'reads:untrusted', sink: 'egress' },
        { source: 'reads:untrusted', sink: 'egress' },
        { source: 'reads:secret', sink: 'egress' },
      ],
    });
    expect(result.pairs).toEqual([{ source: 'reads:untrusted', sink: 'egress' }]);
    expect(result.skippedPairs).toEqual([{ source: 'reads:secret', sink: 'egress' }]);
    expect(result.principals[0]?.toxic.map(route)).toEqual([
      'reads:untrusted -> egress: browser.open -> browser.open',
    ]);
  });

  it('analyses tools named only in `tools:` entries, and lists globs it cannot represent', () => {
    const bare = lintBundle(compileBundle(SOURCES));
    expect(bare.warnings).toEqual([]);
    expect(bare.tools).toContain('email.read_inbox');
    const odd = lint([
      {
        name: 'o.yaml',
        text: 'tools:\n  - { match: "+(a|b).x", labels: [egress] }\nrules:\n  - { id: a, effect: allow }\n',
      },
    ]);
    expect(odd.unanalysedPatterns).toEqual(['+(a|b).x']);
  });

  it('is deterministic, independent of file order, and survives JSON', () => {
    const again = lint([...SOURCES].reverse());
    expect({ ...again, bundleVersion: report.bundleVersion }).toEqual(report);
    expect(JSON.parse(JSON.stringify(report))).toStrictEqual(report);
    expect(report.summary).toEqual({ principals: 5, toxic: 12, gated: 2, windowed: 3 });
  });
});

describe('formatLintReport', () => {
  it('prints each path with the rules that allow it, gates, windows and a summary', () => {
    const text = formatLintReport(lint(SOURCES));
    const lines = text.split('\n');
    expect(lines).toContain(
      '  agent coder: reads:secret -> egress  vault.read_secret (allowed by agents-allow rules.yaml:2) -> http.* (allowed by agents-allow rules.yaml:2)',
    );
    expect(lines).toContain(
      '  agent reviewed: reads:secret -> egress  vault.read_secret (allowed by agents-allow rules.yaml:2) -> http.* (allowed by agents-allow rules.yaml:2)  approval: reviewed-approve-egress rules.yaml:11 [approve] on the sink',
    );
    expect(lines).toContain(
      '  agent coder: reads:untrusted -> payments  web.fetch (allowed by agents-allow rules.yaml:2) -> stripe.create_payment (allowed by agents-allow rules.yaml:2)  window: no-pay-after-untrusted rules.yaml:16',
    );
    expect(lines[0]).toBe('toxic combinations (12):');
    expect(lines.at(-1)).toBe('summary: 12 toxic, 2 gated, 3 windowed (5 principals, 4 pairs, 8 tools)');
    expect(text).not.toContain('no toxic combinations');
  });

  it('says so when there are no toxic combinations', () => {
    const text = formatLintReport(
      lint([
        { name: 'tools.yaml', text: TOOLS },
        { name: 'r.yaml', text: 'rules:\n  - { id: reads-only, tool: [vault.*, web.*], effect: allow }\n' },
      ]),
    );
    expect(text.split('\n')[0]).toBe('no toxic combinations (1 principal, 4 pairs, 10 tools)');
  });
});
