/**
 * fast-check arbitraries for the policy engine's property tests: random bundles over a small, fixed universe of
 * tools, labels and principals, written out as real YAML policy files, and random sessions of calls against them.
 *
 * Every generated bundle compiles: rules only name labels the tools file defines, taints some tool carries, and
 * fields only where the schema allows them (`approvers` on approve, `terminate` on deny).
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import type { PolicySource } from '../parse-sources.js';
import type { ReplayCall } from '../replay.js';
import type { Effect, Principal } from '../types.js';

/** Tools the tools file labels (`shell.run` gets none). */
export const TOOL_NAMES = [
  'fs.read_file',
  'vault.read_secret',
  'web.fetch',
  'http.post',
  'stripe.pay',
  'shell.run',
] as const;
/** A tool no tools entry and no rule names: only `*`-style globs and unscoped rules reach it. */
export const UNLISTED_TOOL = 'misc.unlisted';
export const CALLABLE_TOOLS: readonly string[] = [...TOOL_NAMES, UNLISTED_TOOL];

const TOOLS_FILE = {
  tools: [
    { match: 'fs.read_file', labels: ['reads:internal'] },
    { match: 'vault.read_secret', labels: ['reads:secret'] },
    { match: 'web.fetch', labels: ['reads:untrusted'] },
    { match: ['http.post', 'stripe.pay'], labels: ['egress'] },
    { match: 'stripe.pay', labels: ['payments'] },
  ],
  labels: {
    sensitive: { description: 'secret or internal reads', includes: ['reads:secret', 'reads:internal'] },
  },
};

/** Labels (and label globs) rules may name; all are defined by `TOOLS_FILE`. */
const LABEL_PATTERNS = [
  'reads:internal',
  'reads:secret',
  'reads:untrusted',
  'egress',
  'payments',
  'sensitive',
  'reads:*',
] as const;
/** `reads:<name>` names some tool carries; `untrusted` is integrity (the default), the rest secrecy. */
const TAINT_NAMES = ['secret', 'internal', 'untrusted'] as const;
const TOOL_GLOBS = ['fs.*', '*.read_*', 'stripe.*', 'http.*', '*'] as const;

export const PRINCIPALS: readonly Principal[] = [
  { id: 'agt_a', name: 'alice', team: 'red' },
  { id: 'agt_b', name: 'bob', team: 'blue' },
  { id: 'agt_c', team: 'red' },
];

/**
 * CEL conditions the generator uses. `call.args.n > 3` fails to evaluate when `n` is missing or not a number;
 * `has(...) && ...` only when `n` is present but not a number; bare `call.args.n` never yields a bool, so it
 * always fails; the last two never fail.
 */
export const CONDITIONS = [
  'call.args.n > 3',
  'has(call.args.n) && call.args.n > 3',
  'call.args.n',
  'session.step >= 2',
  "principal.team == 'red'",
] as const;

/** The condition whose failure the tests predict exactly: it throws unless `n` is a number. */
export const THROWS_UNLESS_N_IS_A_NUMBER = 'call.args.n > 3';

export type RuleBody = { effect: Effect } & Record<string, unknown>;
export type RuleDraft = { id: string } & RuleBody;

/** A bundle before it is written out: rules spread over `files` rule files, plus the shared tools file. */
export interface BundleDraft {
  files: number;
  rules: Array<{ file: number; rule: RuleDraft }>;
}

export interface RuleOptions {
  /** Effects to draw from; all four by default. */
  effects?: readonly Effect[];
  /** Whether rules may read session history (`after`, `not_after`, `taint`, `limit`); yes by default. */
  history?: boolean;
  /** How often (in %) a rule has a CEL condition; 25 by default. */
  conditionPercent?: number;
}

export interface SessionDraft {
  principal: Principal;
  calls: ReplayCall[];
}

/** 2026-01-01T00:00:00Z: every generated time has 13 digits, so JSON sizes do not drift with the clock. */
export const BASE_TIME = Date.UTC(2026, 0, 1);

/** `arbitrary` about `percent`% of the time, `undefined` otherwise. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | undefined> {
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 100 - percent },
    { arbitrary: arbitrary as fc.Arbitrary<T | undefined>, weight: percent },
  );
}

const nonEmpty = <T>(values: readonly T[]) => fc.subarray([...values], { minLength: 1 });

const toolMatchArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...TOOL_NAMES),
  nonEmpty(TOOL_NAMES),
  fc.constantFrom(...TOOL_GLOBS),
  fc.record({ labels: nonEmpty(LABEL_PATTERNS) }),
  fc.record({ names: nonEmpty([...TOOL_NAMES, ...TOOL_GLOBS]), labels: nonEmpty(LABEL_PATTERNS) }),
);

const principalMatchArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ agents: nonEmpty(['agt_a', 'bob', 'agt_c']) }),
  fc.record({ teams: nonEmpty(['red', 'blue']) }),
);

const boundArb = fc.integer({ min: -1, max: 7 });
const argsArb: fc.Arbitrary<unknown> = fc
  .record(
    {
      n: fc.oneof(
        boundArb.map((min) => ({ min })),
        boundArb.map((max) => ({ max })),
        fc.tuple(boundArb, boundArb).map(([a, b]) => ({ min: Math.min(a, b), max: Math.max(a, b) })),
      ),
      kind: nonEmpty(['a', 'b', 'c']).map((values) => ({ one_of: values })),
    },
    { requiredKeys: [] },
  )
  .filter((args) => Object.keys(args).length > 0);

const windowArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: 1, max: 6 }).map((steps) => ({ steps })),
  fc.constant({ steps: 128 }),
  fc.integer({ min: 1, max: 7200 }).map((seconds) => ({ seconds })),
  fc.record({ steps: fc.integer({ min: 1, max: 10 }), seconds: fc.integer({ min: 1, max: 3600 }) }),
);

const historyMatchArb: fc.Arbitrary<unknown> = fc
  .record({
    subject: fc.oneof(
      fc.oneof(fc.constantFrom(...TOOL_NAMES, ...TOOL_GLOBS), nonEmpty(TOOL_NAMES)).map((tool) => ({ tool })),
      fc.oneof(fc.constantFrom(...LABEL_PATTERNS), nonEmpty(LABEL_PATTERNS)).map((label) => ({ label })),
    ),
    outcome: sometimes(fc.constantFrom('allowed', 'denied', 'any'), 50),
    within: sometimes(windowArb, 70),
  })
  .map(({ subject, outcome, within }) => ({ ...subject, ...defined({ outcome, within }) }));

const taintArb: fc.Arbitrary<unknown> = fc.oneof(
  nonEmpty(TAINT_NAMES),
  fc.constant({ secrecy: ['secret'] }),
  fc.constant({ secrecy: ['internal', 'secret'] }),
  fc.constant({ integrity: ['untrusted'] }),
);

const limitArb: fc.Arbitrary<unknown> = fc.record({
  count: fc.integer({ min: 0, max: 3 }),
  per: fc.constantFrom('session', 'hour', 'day'),
  of: fc.oneof(
    fc.oneof(fc.constantFrom(...TOOL_NAMES, ...TOOL_GLOBS), nonEmpty(TOOL_NAMES)).map((tool) => ({ tool })),
    fc.constantFrom(...LABEL_PATTERNS).map((label) => ({ label })),
  ),
});

const effectArb = (effects: readonly Effect[]): fc.Arbitrary<Effect> =>
  fc.oneof(
    ...effects.map((effect) => ({ arbitrary: fc.constant(effect), weight: effect === 'allow' ? 3 : 1 })),
  );

/** One rule without its id; fields are mostly absent, so most rules are simple and many calls match some rule. */
export function ruleBodyArb(options: RuleOptions = {}): fc.Arbitrary<RuleBody> {
  const history = options.history ?? true;
  const none = fc.constant(undefined);
  return fc
    .record({
      effect: effectArb(options.effects ?? ['allow', 'deny', 'flag', 'approve']),
      tool: sometimes(toolMatchArb, 80),
      principal: sometimes(principalMatchArb, 20),
      args: sometimes(argsArb, 25),
      taint: history ? sometimes(taintArb, 15) : none,
      after: history
        ? sometimes(fc.oneof(historyMatchArb, fc.array(historyMatchArb, { minLength: 1, maxLength: 2 })), 15)
        : none,
      not_after: history ? sometimes(historyMatchArb, 10) : none,
      limit: history ? sometimes(limitArb, 15) : none,
      condition: sometimes(fc.constantFrom(...CONDITIONS), options.conditionPercent ?? 25),
      approvers: sometimes(fc.integer({ min: 1, max: 3 }), 50),
      terminate: sometimes(fc.boolean(), 20),
    })
    .map(({ approvers, terminate, ...rule }) =>
      defined({
        ...rule,
        approvers: rule.effect === 'approve' ? approvers : undefined,
        terminate: rule.effect === 'deny' ? terminate : undefined,
      }),
    );
}

/** Up to `maxRules` rules with ids `r0`, `r1`, … spread over one to three rule files. */
export function bundleArb(options: RuleOptions & { maxRules?: number } = {}): fc.Arbitrary<BundleDraft> {
  return fc
    .record({
      files: fc.integer({ min: 1, max: 3 }),
      rules: fc.array(fc.tuple(fc.nat(2), ruleBodyArb(options)), { maxLength: options.maxRules ?? 8 }),
    })
    .map(({ files, rules }) => ({
      files,
      rules: rules.map(([file, body], index) => ({ file: file % files, rule: { id: `r${index}`, ...body } })),
    }));
}

/** The draft as policy files: `tools.yaml` first, then `rules-<n>.yaml`, all written as YAML. */
export function renderBundle(draft: BundleDraft): PolicySource[] {
  const sources: PolicySource[] = [{ name: 'tools.yaml', text: stringify(TOOLS_FILE) }];
  for (let file = 0; file < draft.files; file += 1) {
    const rules = draft.rules.filter((entry) => entry.file === file).map((entry) => entry.rule);
    sources.push({ name: `rules-${file}.yaml`, text: stringify({ version: 1, rules }) });
  }
  return sources;
}

/** The draft with `rule` added at `position` (taken modulo the number of slots) in file `position % files`. */
export function withRule(draft: BundleDraft, rule: RuleDraft, position: number): BundleDraft {
  const rules = [...draft.rules];
  rules.splice(position % (rules.length + 1), 0, { file: position % draft.files, rule });
  return { files: draft.files, rules };
}

const argValuesArb = fc.record(
  { n: fc.oneof(fc.integer({ min: -2, max: 8 }), fc.constant('x')), kind: fc.constantFrom('a', 'b', 'c') },
  { requiredKeys: [] },
);

/** Gap to the previous call: usually seconds to minutes, sometimes hours, so hour and day windows roll over. */
const gapArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 120_000 }), weight: 4 },
  { arbitrary: fc.integer({ min: 0, max: 4 * 3_600_000 }), weight: 1 },
);

export function sessionArb(
  options: { maxCalls?: number; tools?: readonly string[] } = {},
): fc.Arbitrary<SessionDraft> {
  const call = fc.record({
    tool: fc.constantFrom(...(options.tools ?? CALLABLE_TOOLS)),
    args: argValuesArb,
    gap: gapArb,
    approved: fc.oneof(
      { arbitrary: fc.constant(true), weight: 4 },
      { arbitrary: fc.constant(false), weight: 1 },
    ),
  });
  return fc
    .record({
      principal: fc.constantFrom(...PRINCIPALS),
      calls: fc.array(call, { maxLength: options.maxCalls ?? 16 }),
    })
    .map(({ principal, calls }) => {
      let at = BASE_TIME;
      return {
        principal,
        calls: calls.map(({ gap, ...rest }) => {
          at += gap;
          return { ...rest, at };
        }),
      };
    });
}

/** The object without its `undefined` fields, so YAML gets no `null`s. */
function defined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
