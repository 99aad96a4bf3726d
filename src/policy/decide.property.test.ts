/**
 * Property tests for the policy engine: random bundles (written as YAML) and random sessions, checked against
 * the guarantees the engine makes — monotonicity of deny and allow rules, determinism, bounded session state,
 * sticky termination and fail-closed evaluation errors.
 *
 * Monotonicity is stated per call, on the SAME input state (the `before` states of one replay, fed to `decide`
 * with and without the extra rule). It cannot be stated over two independent replays in general: a rule that
 * denies a call also changes every later state — a denied call does not taint the session, does not count
 * towards limits and enters the history as `denied` — and history-reading rules (`limit`, `taint`, `after`,
 * `not_after`) may then decide later calls more permissively. The replay-level version is checked only for
 * bundles whose rules read no history, and a pinned example shows it failing with a `limit` rule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HISTORY_LIMIT } from './bundle-schema.js';
import { compileBundle } from './compile.js';
import type { CompiledBundle } from './compiled-bundle.js';
import { decide, explain } from './decide.js';
import { type ReplayStep, replaySession } from './replay.js';
import { emptySessionState, type RecordedCall, recordCall } from './session-state.js';
import {
  BASE_TIME,
  type BundleDraft,
  bundleArb,
  CALLABLE_TOOLS,
  PRINCIPALS,
  renderBundle,
  ruleBodyArb,
  type SessionDraft,
  sessionArb,
  THROWS_UNLESS_N_IS_A_NUMBER,
  TOOL_NAMES,
  withRule,
} from './test-support/policy-arbitraries.js';
import type { Decision, DecisionInput, Effect, SessionState } from './types.js';

const RUNS = { numRuns: 100 };
/** Precedence order of `decide`: the earlier effect wins. */
const PRECEDENCE: readonly Effect[] = ['deny', 'approve', 'flag', 'allow'];
/** How much an effect lets through: deny < approve < flag < allow. */
const PERMISSIVENESS: Record<Effect, number> = { deny: 0, approve: 1, flag: 2, allow: 3 };

function compileDraft(draft: BundleDraft): CompiledBundle {
  return compileBundle(renderBundle(draft));
}

function replay(bundle: CompiledBundle, session: SessionDraft): ReplayStep[] {
  return replaySession(bundle, { principal: session.principal }, session.calls);
}

/** The input `replaySession` decided `step` with; any other bundle can be asked about the same input. */
function inputOf(session: SessionDraft, step: ReplayStep, state: SessionState = step.before): DecisionInput {
  return {
    principal: session.principal,
    call: { tool: step.call.tool, args: step.call.args },
    session: { scope: {}, state },
    user: undefined,
    chain: [],
    now: step.call.at,
  };
}

/** Every input a replay of `session` under each bundle decides: the states differ between bundles. */
function inputsOf(bundles: readonly CompiledBundle[], session: SessionDraft): DecisionInput[] {
  return bundles.flatMap((bundle) => replay(bundle, session).map((step) => inputOf(session, step)));
}

const atMostAsPermissive = (narrower: Decision, wider: Decision) =>
  PERMISSIVENESS[narrower.effect] <= PERMISSIVENESS[wider.effect];

describe('adding a deny rule', () => {
  it('never makes a decision more permissive for the same input, so a deny stays a deny', () => {
    let narrowed = 0;
    fc.assert(
      fc.property(
        bundleArb(),
        ruleBodyArb({ effects: ['deny'] }),
        fc.nat(),
        sessionArb(),
        (draft, extra, at, session) => {
          const base = compileDraft(draft);
          const stricter = compileDraft(withRule(draft, { id: 'extra-deny', ...extra }, at));
          for (const input of inputsOf([base, stricter], session)) {
            const before = decide(base, input);
            const after = decide(stricter, input);
            expect(atMostAsPermissive(after, before), `${before.effect} became ${after.effect}`).toBe(true);
            if (before.effect === 'deny') expect(after.effect).toBe('deny');
            if (after.effect !== before.effect) narrowed += 1;
          }
        },
      ),
      RUNS,
    );
    expect(narrowed).toBeGreaterThan(0);
  });

  it('never makes any call of a replayed session more permissive when no rule reads the history', () => {
    fc.assert(
      fc.property(
        bundleArb({ history: false }),
        ruleBodyArb({ effects: ['deny'], history: false }),
        fc.nat(),
        sessionArb(),
        (draft, extra, at, session) => {
          const original = replay(compileDraft(draft), session);
          const stricter = replay(compileDraft(withRule(draft, { id: 'extra-deny', ...extra }, at)), session);
          original.forEach((step, index) => {
            const after = stricter[index]?.decision as Decision;
            expect(atMostAsPermissive(after, step.decision), `call ${index}`).toBe(true);
          });
        },
      ),
      RUNS,
    );
  });

  it('can let a later call through in a replay when a limit no longer counts the call it denied (by design)', () => {
    // Why the property above compares decisions on the same input state: limits count only calls that ran.
    const rules = `
rules:
  - { id: pay, tool: stripe.pay, effect: allow }
  - { id: one-payment, tool: stripe.pay, limit: { count: 1, per: session, of: { tool: stripe.pay } }, effect: deny }
`;
    const extra = '  - { id: no-big-payments, tool: stripe.pay, args: { n: { min: 5 } }, effect: deny }\n';
    const session: SessionDraft = {
      principal: { id: 'agt_a' },
      calls: [
        { tool: 'stripe.pay', args: { n: 9 }, at: BASE_TIME },
        { tool: 'stripe.pay', args: { n: 1 }, at: BASE_TIME + 1000 },
      ],
    };
    const effects = (text: string) =>
      replay(compileBundle([{ name: 'r.yaml', text }]), session).map((step) => step.decision.effect);
    expect(effects(rules)).toEqual(['allow', 'deny']);
    expect(effects(rules + extra)).toEqual(['deny', 'allow']);
  });
});

describe('removing an allow rule', () => {
  it('never grants more for the same input, unless that rule failed to evaluate (then it had denied)', () => {
    let errored = 0;
    fc.assert(
      fc.property(
        bundleArb(),
        ruleBodyArb({ effects: ['allow'], conditionPercent: 70 }),
        fc.nat(),
        sessionArb(),
        (draft, rule, at, session) => {
          const withTarget = compileDraft(withRule(draft, { id: 'target', ...rule }, at));
          const without = compileDraft(draft);
          for (const input of inputsOf([withTarget, without], session)) {
            const explained = explain(withTarget, input);
            const before = explained.decision;
            const after = decide(without, input);
            const targetFailed = explained.rules.some(
              (trace) => trace.ruleId === 'target' && trace.outcome === 'error',
            );
            if (!targetFailed) {
              expect(atMostAsPermissive(after, before), `${before.effect} became ${after.effect}`).toBe(true);
            } else {
              // A failing allow rule fails closed; without it the call may be allowed by another rule.
              errored += 1;
              expect(before).toMatchObject({ effect: 'deny', code: 'policy_eval_error' });
              expect(before.ruleIds).toContain('target');
            }
          }
        },
      ),
      RUNS,
    );
    expect(errored).toBeGreaterThan(0);
  });

  it('lets a call through when the removed allow rule was the one failing to evaluate (pinned)', () => {
    const base = 'rules:\n  - { id: allow-all, effect: allow }\n';
    const failing = `  - { id: big, effect: allow, condition: "${THROWS_UNLESS_N_IS_A_NUMBER}" }\n`;
    const input: DecisionInput = {
      principal: { id: 'agt_a' },
      call: { tool: 'fs.read_file', args: {} },
      session: { scope: {}, state: emptySessionState() },
      now: BASE_TIME,
    };
    expect(decide(compileBundle([{ name: 'r.yaml', text: base + failing }]), input).code).toBe(
      'policy_eval_error',
    );
    expect(decide(compileBundle([{ name: 'r.yaml', text: base }]), input).effect).toBe('allow');
  });
});

describe('determinism', () => {
  const sameVerdict = (decision: Decision) => ({
    effect: decision.effect,
    code: decision.code,
    ruleIds: [...decision.ruleIds].sort(),
    matched: decision.matched.map((match) => match.ruleId).sort(),
    approval: decision.approval?.approvers,
    terminate: decision.terminate,
    bundleVersion: decision.bundleVersion,
  });

  it('gives deep-equal decisions for the same input, after recompiling and from explain; file order only reorders', () => {
    fc.assert(
      fc.property(
        // More rules than elsewhere, so that several rules of one effect, in different files, match one call.
        bundleArb({ maxRules: 12 }),
        sessionArb(),
        (draft, session) => {
          const sources = renderBundle(draft);
          // Reversed, so every pair of files swaps: an order dependence between any two files shows.
          const reordered = [...sources].reverse();
          const bundle = compileBundle(sources);
          const again = compileBundle(sources);
          const reversed = compileBundle(reordered);
          const steps = replay(bundle, session);
          for (const step of steps) {
            const input = inputOf(session, step);
            const snapshot = structuredClone(input);
            const decision = decide(bundle, input);
            expect(decision).toEqual(step.decision);
            expect(decide(bundle, input)).toEqual(decision);
            expect(decide(again, input)).toEqual(decision);
            expect(explain(bundle, input).decision).toEqual(decision);
            expect(input).toEqual(snapshot);
            // Rule order follows file order, so lists may be reordered; nothing else may change.
            expect(sameVerdict(decide(reversed, input))).toEqual(sameVerdict(decision));
          }
          // A whole replay agrees on every effect and code too (the states it builds may name other rules).
          const reorderedSteps = replay(reversed, session);
          expect(reorderedSteps.map((step) => [step.decision.effect, step.decision.code])).toEqual(
            steps.map((step) => [step.decision.effect, step.decision.code]),
          );
        },
      ),
      RUNS,
    );
  });
});

describe('session state', () => {
  const recordedCallArb = fc.record({
    tool: fc.constantFrom(...CALLABLE_TOOLS),
    outcome: fc.constantFrom('allowed', 'denied') as fc.Arbitrary<'allowed' | 'denied'>,
    gap: fc.integer({ min: 0, max: 600_000 }),
    terminatedBy: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 60 },
      { arbitrary: fc.constantFrom('r0', 'r1'), weight: 1 },
    ),
  });
  const toRecorded = (calls: ReadonlyArray<{ gap: number } & Omit<RecordedCall, 'at'>>): RecordedCall[] => {
    let at = BASE_TIME;
    return calls.map(({ gap, ...call }) => {
      at += gap;
      return { ...call, at };
    });
  };
  const facts = compileDraft({ files: 1, rules: [] });

  it('keeps the history bounded, ordered and ending at the last call, with step counting every call', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(recordedCallArb, { maxLength: 20 }),
          fc.array(recordedCallArb, { minLength: HISTORY_LIMIT - 2, maxLength: 300 }),
        ),
        (drafts) => {
          const calls = toRecorded(drafts);
          const firstEnd = calls.findIndex((call) => call.terminatedBy !== undefined);
          const allowedPerTool: Record<string, number> = {};
          // Plain checks per fold, one assertion per run: `expect` on every history entry is too slow here.
          const problems: string[] = [];
          let state = deepFreeze(emptySessionState());
          calls.forEach((call, index) => {
            const previous = state;
            // Frozen: recordCall must not modify its input (it would throw in strict mode).
            state = deepFreeze(recordCall(facts, previous, call));
            const { history, taint, counts, terminated } = state;
            const fail = (what: string) => problems.push(`after call ${index + 1}: ${what}`);
            if (state.step !== index + 1) fail(`step is ${state.step}`);
            if (history.length !== Math.min(index + 1, HISTORY_LIMIT))
              fail(`history holds ${history.length}`);
            const last = history.at(-1);
            if (
              last?.tool !== call.tool ||
              last.outcome !== call.outcome ||
              last.at !== call.at ||
              last.step !== index + 1
            )
              fail(`last entry is ${JSON.stringify(last)}`);
            if (history.some((entry, position) => entry.step !== state.step - history.length + 1 + position))
              fail(`steps are ${history.map((entry) => entry.step).join(',')}`);
            if (!previous.taint.secrecy.every((name) => taint.secrecy.includes(name)))
              fail('lost secrecy taint');
            if (!previous.taint.integrity.every((name) => taint.integrity.includes(name)))
              fail('lost integrity taint');
            if (call.outcome === 'allowed') allowedPerTool[call.tool] = (allowedPerTool[call.tool] ?? 0) + 1;
            if (JSON.stringify(counts.session.tools) !== JSON.stringify(allowedPerTool))
              fail('session counts');
            const ender = calls[firstEnd];
            const expected =
              ender === undefined || firstEnd > index
                ? undefined
                : { ruleId: ender.terminatedBy, step: firstEnd + 1, at: ender.at };
            if (JSON.stringify(terminated) !== JSON.stringify(expected))
              fail(`terminated is ${JSON.stringify(terminated)}`);
          });
          expect(problems).toEqual([]);
          expect(state.step).toBe(calls.length);
          expect(state.history.length).toBeLessThanOrEqual(HISTORY_LIMIT);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('stops growing once the history is full: after 1,000 calls no bigger than after 2 × HISTORY_LIMIT', () => {
    // Counters grow by digits only: each of the 3 buckets × (tools + labels) counts can gain a digit or two, and
    // step numbers in the history gain one; anything per-call (a growing history) would be tens of kilobytes.
    const keys = CALLABLE_TOOLS.length + 6; // counted tools + labels
    const slack = 3 * keys * 2 + HISTORY_LIMIT + 100;
    fc.assert(
      fc.property(
        bundleArb(),
        fc.constantFrom(...PRINCIPALS),
        fc.array(recordedCallArb, { minLength: 1000, maxLength: 1000 }),
        (draft, principal, drafts) => {
          const calls = toRecorded(drafts);
          let state = emptySessionState();
          const sizes = new Map<number, number>();
          calls.forEach((call, index) => {
            state = recordCall(facts, state, call);
            if ([2 * HISTORY_LIMIT, 500, 750, 1000].includes(index + 1))
              sizes.set(index + 1, JSON.stringify(state).length);
          });
          const full = sizes.get(2 * HISTORY_LIMIT) as number;
          for (const size of sizes.values()) expect(size).toBeLessThanOrEqual(full + slack);
          // The same through the engine, deciding every call with a random bundle.
          const steps = replay(compileDraft(draft), {
            principal,
            calls: calls.map(({ tool, at }) => ({ tool, args: {}, at })),
          });
          const replayed = (step: number) => JSON.stringify((steps[step] as ReplayStep).before).length;
          expect(replayed(999)).toBeLessThanOrEqual(replayed(2 * HISTORY_LIMIT) + slack);
          expect((steps[999] as ReplayStep).before.history.length).toBe(HISTORY_LIMIT);
        },
      ),
      { numRuns: 10 },
    );
  });
});

describe('terminated sessions', () => {
  it('stay terminated whatever rule is added: the same decision, naming the rule that ended the session', () => {
    let terminatedInReplay = 0;
    fc.assert(
      fc.property(
        bundleArb(),
        ruleBodyArb(),
        fc.nat(),
        sessionArb(),
        fc.constantFrom('r0', 'some-rule'),
        fc.constantFrom(...TOOL_NAMES),
        (original, extra, at, session, ruleId, endingTool) => {
          // A rule that ends the session on one tool, so replays reach terminated states of their own; other
          // states get a `terminated` marker added by hand.
          const draft = withRule(
            original,
            { id: 'ender', tool: endingTool, effect: 'deny', terminate: true },
            at + 1,
          );
          const base = compileDraft(draft);
          const extended = compileDraft(withRule(draft, { id: 'extra', ...extra }, at));
          for (const step of replay(base, session)) {
            const states = step.before.terminated
              ? [step.before]
              : [{ ...step.before, terminated: { ruleId, step: step.before.step, at: step.call.at } }];
            if (step.before.terminated) terminatedInReplay += 1;
            for (const state of states) {
              const input = inputOf(session, step, state);
              const decision = decide(extended, input);
              expect(decision).toMatchObject({
                effect: 'deny',
                code: 'session_terminated',
                ruleIds: [state.terminated?.ruleId],
              });
              expect({ ...decision, bundleVersion: '' }).toEqual({
                ...decide(base, input),
                bundleVersion: '',
              });
            }
          }
        },
      ),
      RUNS,
    );
    expect(terminatedInReplay).toBeGreaterThan(0);
  });

  it('deny every call after the one a terminating rule denied, in a replay', () => {
    fc.assert(
      fc.property(bundleArb(), sessionArb(), (draft, session) => {
        const steps = replay(compileDraft(draft), session);
        const end = steps.findIndex((step) => step.decision.terminate === true);
        if (end === -1) return;
        const ender = steps[end] as ReplayStep;
        expect(ender.decision).toMatchObject({ effect: 'deny', code: 'policy_denied' });
        for (const step of steps.slice(end + 1)) {
          expect(step.decision.code).toBe('session_terminated');
          expect(step.decision.ruleIds).toEqual([ender.decision.terminatedBy]);
          expect(step.before.terminated).toMatchObject({ step: end + 1, at: ender.call.at });
        }
      }),
      RUNS,
    );
  });

  it('names the rule with `terminate: true` as the one that ended the session, not the first deny', () => {
    const bundle = compileBundle([
      {
        name: 'r.yaml',
        text: `
rules:
  - { id: allow-all, effect: allow }
  - { id: no-sudo, tool: shell.sudo, effect: deny }
  - { id: kill-on-sudo, tool: shell.sudo, effect: deny, terminate: true }
`,
      },
    ]);
    const steps = replaySession(bundle, { principal: { id: 'agt_a' } }, [
      { tool: 'shell.sudo', args: {}, at: BASE_TIME },
      { tool: 'fs.read_file', args: {}, at: BASE_TIME + 1000 },
    ]);
    expect(steps[1]?.decision.ruleIds).toEqual(['kill-on-sudo']);
  });
});

describe('evaluation errors', () => {
  it('never allow: a failing condition denies, with policy_eval_error unless a deny rule matched', () => {
    let failures = 0;
    fc.assert(
      fc.property(bundleArb(), sessionArb(), (draft, session) => {
        const bundle = compileDraft(draft);
        for (const step of replay(bundle, session)) {
          const { decision, rules } = explain(bundle, inputOf(session, step));
          const failed = rules.filter((trace) => trace.outcome === 'error').map((trace) => trace.ruleId);
          if (decision.code === 'policy_eval_error') expect(failed.length).toBeGreaterThan(0);
          if (failed.length === 0) continue;
          failures += 1;
          expect(decision.effect).toBe('deny');
          if (rules.some((trace) => trace.effect === 'deny' && trace.outcome === 'matched')) {
            expect(decision.code).toBe('policy_denied');
          } else {
            expect(decision.code).toBe('policy_eval_error');
            expect(decision.ruleIds).toEqual(failed);
          }
        }
      }),
      RUNS,
    );
    expect(failures).toBeGreaterThan(0);
  });

  it('decide only with a deny, or with an effect that takes precedence over the failing rule', () => {
    // Independent of explain: `call.args.n > 3` on a rule scoped to one tool fails exactly when `n` is not a number.
    // Rules are evaluated one precedence group at a time, so a failing allow rule is never reached once an
    // approve or flag rule matched; the failure still decides whenever its rule is reached.
    let failures = 0;
    fc.assert(
      fc.property(
        bundleArb(),
        fc.constantFrom(...TOOL_NAMES),
        fc.constantFrom(...PRECEDENCE),
        fc.nat(),
        sessionArb({ tools: [...TOOL_NAMES] }),
        (draft, tool, effect, at, session) => {
          const rule = { id: 'failing', tool, condition: THROWS_UNLESS_N_IS_A_NUMBER, effect };
          const bundle = compileDraft(withRule(draft, rule, at));
          for (const step of replay(bundle, session)) {
            if (step.call.tool !== tool || typeof step.call.args.n === 'number' || step.before.terminated)
              continue;
            failures += 1;
            const { effect: decided } = step.decision;
            expect(decided).not.toBe('allow');
            if (decided !== 'deny')
              expect(PRECEDENCE.indexOf(decided)).toBeLessThan(PRECEDENCE.indexOf(effect));
            if (effect === 'deny') expect(decided).toBe('deny');
          }
        },
      ),
      RUNS,
    );
    expect(failures).toBeGreaterThan(0);
  });
});

describe('argument lookup', () => {
  it('treats an argument the call does not pass as missing, even when named like an Object.prototype member', () => {
    const bundle = compileBundle([
      {
        name: 'r.yaml',
        text: 'rules:\n  - { id: needs-arg, tool: t, args: { toString: { present: true } }, effect: allow }\n',
      },
    ]);
    const input: DecisionInput = {
      principal: { id: 'agt_a' },
      call: { tool: 't', args: {} },
      session: { scope: {}, state: emptySessionState() },
      now: BASE_TIME,
    };
    expect(decide(bundle, input).effect).toBe('deny');
  });
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const field of Object.values(value)) deepFreeze(field);
  }
  return value;
}
