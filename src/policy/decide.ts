import type {
  CompiledBundle,
  CompiledRule,
  HistoryCheck,
  LimitCheck,
  TaintCheck,
} from './compiled-bundle.js';
import { currentBucket } from './session-state.js';
import type { Decision, DecisionInput, Effect, RuleMatch, SessionState, Taint } from './types.js';

/** Precedence: the first effect with a matching rule decides. */
const PRECEDENCE = ['deny', 'approve', 'flag', 'allow'] as const satisfies readonly Effect[];

/** Why a rule did or did not match one call, for `explain`. */
export interface RuleTrace {
  ruleId: string;
  effect: Effect;
  file: string;
  line: number;
  outcome: 'matched' | 'not_matched' | 'error' | 'skipped';
  /** The first condition that failed (`principal`, `args.to`, `after[0]`, `condition`, ...) or the error. */
  detail?: string;
}

export interface Explanation {
  decision: Decision;
  /** Every rule of the bundle whose tool matcher accepts the call's tool, in precedence order. */
  rules: RuleTrace[];
}

type RuleResult = true | false | { error: string };

/**
 * Decides one tool call. Pure: the same bundle and input always give the same decision, and nothing outside
 * the arguments is read. Default deny; deny > approve > flag > allow; a rule whose CEL condition fails to
 * evaluate denies the call (`policy_eval_error`) unless a deny rule already matched.
 */
export function decide(bundle: CompiledBundle, input: DecisionInput): Decision {
  return run(bundle, input, undefined);
}

/** `decide`, plus the verdict of every rule that could apply to the tool. The decision is identical. */
export function explain(bundle: CompiledBundle, input: DecisionInput): Explanation {
  const rules: RuleTrace[] = [];
  const decision = run(bundle, input, rules);
  return { decision, rules };
}

function run(bundle: CompiledBundle, input: DecisionInput, trace: RuleTrace[] | undefined): Decision {
  const { state } = input.session;
  if (state.terminated) {
    return {
      effect: 'deny',
      code: 'session_terminated',
      ruleIds: [state.terminated.ruleId],
      matched: [],
      reason: `the session was ended by rule \`${state.terminated.ruleId}\` at step ${state.terminated.step}`,
      bundleVersion: bundle.version,
    };
  }
  const groups = bundle.rulesFor(input.call.tool);
  const scope = new EvaluationScope(bundle, input);
  const matched: RuleMatch[] = [];
  const errors: Array<{ ruleId: string; error: string }> = [];
  let decision: Decision | undefined;
  for (const effect of PRECEDENCE) {
    const winners: CompiledRule[] = [];
    for (const rule of groups[effect]) {
      if (decision) {
        trace?.push(traceOf(rule, 'skipped', scope.whyNot(rule)));
        continue;
      }
      const result = scope.evaluate(rule);
      if (result === true) {
        winners.push(rule);
        matched.push({ ruleId: rule.id, effect: rule.effect, reason: rule.reason });
        trace?.push(traceOf(rule, 'matched'));
      } else if (result === false) {
        trace?.push(traceOf(rule, 'not_matched', trace ? scope.whyNot(rule) : undefined));
      } else {
        errors.push({ ruleId: rule.id, error: result.error });
        trace?.push(traceOf(rule, 'error', result.error));
      }
    }
    if (decision) continue;
    if (winners.length > 0 && effect === 'deny') decision = verdict(bundle, 'deny', winners, matched);
    else if (errors.length > 0) decision = evalErrorDecision(bundle, errors, matched);
    else if (winners.length > 0) decision = verdict(bundle, effect, winners, matched);
    if (decision && !trace) return decision;
  }
  return (
    decision ?? {
      effect: 'deny',
      code: 'no_matching_rule',
      ruleIds: [],
      matched,
      reason: `no rule allows \`${input.call.tool}\` for \`${input.principal.name ?? input.principal.id}\` (default deny)`,
      bundleVersion: bundle.version,
    }
  );
}

function verdict(
  bundle: CompiledBundle,
  effect: Effect,
  winners: CompiledRule[],
  matched: RuleMatch[],
): Decision {
  const ruleIds = winners.map((rule) => rule.id);
  const reason = winners.map((rule) => rule.reason).join('; ');
  const base = { effect, ruleIds, matched, reason, bundleVersion: bundle.version };
  switch (effect) {
    case 'deny': {
      const terminating = winners.find((rule) => rule.terminate);
      return terminating
        ? { ...base, code: 'policy_denied', terminate: true, terminatedBy: terminating.id }
        : { ...base, code: 'policy_denied' };
    }
    case 'approve':
      return {
        ...base,
        code: 'approval_required',
        approval: { approvers: Math.max(...winners.map((rule) => rule.approvers)), ruleIds },
      };
    case 'flag':
      return { ...base, code: 'flagged' };
    case 'allow':
      return { ...base, code: 'allowed' };
  }
}

function evalErrorDecision(
  bundle: CompiledBundle,
  errors: Array<{ ruleId: string; error: string }>,
  matched: RuleMatch[],
): Decision {
  return {
    effect: 'deny',
    code: 'policy_eval_error',
    ruleIds: errors.map((error) => error.ruleId),
    matched,
    reason: errors.map((error) => `rule \`${error.ruleId}\` failed to evaluate: ${error.error}`).join('; '),
    bundleVersion: bundle.version,
  };
}

function traceOf(rule: CompiledRule, outcome: RuleTrace['outcome'], detail?: string): RuleTrace {
  return {
    ruleId: rule.id,
    effect: rule.effect,
    file: rule.file,
    line: rule.line,
    outcome,
    ...(detail === undefined ? {} : { detail }),
  };
}

/** One call's view for rule evaluation; builds the CEL activation at most once, and only when a rule needs it. */
class EvaluationScope {
  private celContext: Record<string, unknown> | undefined;

  constructor(
    private readonly bundle: CompiledBundle,
    private readonly input: DecisionInput,
  ) {}

  evaluate(rule: CompiledRule): RuleResult {
    const { input } = this;
    const { state } = input.session;
    if (rule.matchesPrincipal && !rule.matchesPrincipal(input.principal)) return false;
    for (const arg of rule.args) if (!arg.test(argument(input.call.args, arg.name))) return false;
    if (rule.taint && !taintMatches(rule.taint, state.taint)) return false;
    for (const check of rule.after) if (!happened(check, state, input.now)) return false;
    for (const check of rule.notAfter) if (happened(check, state, input.now)) return false;
    if (rule.limit && !limitReached(rule.limit, state, input.now)) return false;
    if (rule.condition) {
      try {
        const result = rule.condition(this.context());
        if (typeof result !== 'boolean') return { error: `condition returned ${typeof result}, not a bool` };
        return result;
      } catch (error) {
        return { error: firstLine(error) };
      }
    }
    return true;
  }

  /** The first failing part of a rule, named for people; only used by `explain`. */
  whyNot(rule: CompiledRule): string | undefined {
    const { input } = this;
    const { state } = input.session;
    if (rule.matchesPrincipal && !rule.matchesPrincipal(input.principal)) return 'principal';
    for (const arg of rule.args)
      if (!arg.test(argument(input.call.args, arg.name))) return `args.${arg.name}`;
    if (rule.taint && !taintMatches(rule.taint, state.taint)) return 'taint';
    for (const [index, check] of rule.after.entries())
      if (!happened(check, state, input.now)) return `after[${index}]`;
    for (const [index, check] of rule.notAfter.entries())
      if (happened(check, state, input.now)) return `not_after[${index}]`;
    if (rule.limit && !limitReached(rule.limit, state, input.now)) return 'limit';
    if (rule.condition) return 'condition';
    return undefined;
  }

  private context(): Record<string, unknown> {
    if (this.celContext) return this.celContext;
    const { input } = this;
    const { state } = input.session;
    const counts = (per: 'session' | 'hour' | 'day') => {
      const bucket = currentBucket(state, per, input.now);
      return { tools: bucket.tools, labels: bucket.labels };
    };
    this.celContext = {
      call: {
        tool: input.call.tool,
        args: input.call.args,
        labels: [...this.bundle.labelsOf(input.call.tool)],
      },
      principal: {
        id: input.principal.id,
        name: input.principal.name ?? '',
        team: input.principal.team ?? '',
        labels: input.principal.labels ?? {},
        review: input.principal.review ?? '',
        properties: input.principal.properties ?? {},
      },
      session: {
        id: input.session.id ?? '',
        scope: input.session.scope,
        taint: { secrecy: state.taint.secrecy, integrity: state.taint.integrity },
        step: state.step,
        counts: { session: counts('session'), hour: counts('hour'), day: counts('day') },
      },
      user: input.user
        ? { id: input.user.id, email: input.user.email ?? '', properties: input.user.properties ?? {} }
        : null,
      chain: (input.chain ?? []).map((link) => ({ sub: link.sub, kind: link.kind })),
      now: new Date(input.now),
    };
    return this.celContext;
  }
}

function taintMatches(check: TaintCheck, taint: Taint): boolean {
  if (
    check.any &&
    !taint.secrecy.some((label) => check.any?.has(label)) &&
    !taint.integrity.some((label) => check.any?.has(label))
  )
    return false;
  if (check.secrecy && !taint.secrecy.some((label) => check.secrecy?.has(label))) return false;
  if (check.integrity && !taint.integrity.some((label) => check.integrity?.has(label))) return false;
  return true;
}

/** Did a call matching the check happen within its window before the call being decided? */
function happened(check: HistoryCheck, state: SessionState, now: number): boolean {
  const { history } = state;
  const current = state.step + 1;
  for (let index = history.length - 1; index >= 0; index -= 1) {
    const entry = history[index] as SessionState['history'][number];
    if (check.steps !== undefined && current - entry.step > check.steps) return false;
    if (check.millis !== undefined && now - entry.at > check.millis) return false;
    if (check.outcome !== 'any' && entry.outcome !== check.outcome) continue;
    if (check.matchesTool(entry.tool)) return true;
  }
  return false;
}

/** True once the calls already counted in the window reach the limit: this call would exceed it. */
function limitReached(limit: LimitCheck, state: SessionState, now: number): boolean {
  const bucket = currentBucket(state, limit.per, now);
  let count = 0;
  if (limit.tools) {
    for (const tool in bucket.tools) if (limit.tools(tool)) count += bucket.tools[tool] ?? 0;
  } else if (limit.labels) {
    for (const label in bucket.labels) if (limit.labels(label)) count += bucket.labels[label] ?? 0;
  }
  return count >= limit.count;
}

/** An argument's own value only: `toString` or `constructor` must not appear present because objects inherit them. */
function argument(args: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(args, name) ? args[name] : undefined;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
