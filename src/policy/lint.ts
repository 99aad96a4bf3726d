import type { CompiledBundle, CompiledRule, TaintCheck, ToolRules } from './compiled-bundle.js';
import { compileNameMatcher, isGlob } from './name-matcher.js';
import type { Effect, Taint } from './types.js';

/**
 * Static toxic-combination analysis (`gatehouse policy lint`): for each principal, which pairs of tool labels
 * (a source such as `reads:secret`, then a sink such as `egress`) one session can reach with no deny or approval
 * rule in between.
 *
 * The model, per principal P, toxic pair (source label, sink label), source tool s and sink tool k:
 * 1. s may run first: some allow/flag/approve rule may apply to s for P (every argument, CEL, history, limit,
 *    taint and principal label/review constraint is assumed satisfiable), and no deny rule definitely fires on s
 *    (principal definitely P and no constraint at all).
 * 2. k may run next, in the session s left behind (taint of s, history `[s]`): some rule may allow it as above,
 *    and no deny rule definitely fires, where a rule whose only constraints are taint the session now has and/or
 *    `after` checks matched by s counts as firing.
 * An approve rule that definitely fires (or is the only rule that could admit a call) makes the path gated:
 * reachable only through a person. A path blocked on the very next call only by `after` rules is "windowed": the
 * agent can outrun any history window (and the bounded history) by making other calls first, so it is listed.
 *
 * An agent whose team is not given is tried in each team a rule names and in none; a path that needs a team
 * says so (`ifTeam`). Both calls of a path are judged in the same team.
 *
 * Candidate tools are the exact names the bundle mentions (tool entries and rules) plus one representative per
 * glob: the glob's own text (`github.*`), taken as a tool name. It matches its own entry and any rule glob that
 * covers it, but no exact-name rule, so it stands for "a tool of this family that no rule names exactly".
 */

export interface ToxicPair {
  /** A label whose call taints the session, e.g. `reads:secret`. */
  source: string;
  /** A label that is dangerous once the session carries the source, e.g. `egress`. */
  sink: string;
}

export const DEFAULT_TOXIC_PAIRS: readonly ToxicPair[] = Object.freeze([
  { source: 'reads:secret', sink: 'egress' },
  { source: 'reads:pii', sink: 'egress' },
  { source: 'reads:internal', sink: 'egress' },
  { source: 'reads:untrusted', sink: 'payments' },
  { source: 'reads:untrusted', sink: 'exec' },
  { source: 'reads:untrusted', sink: 'writes' },
  { source: 'reads:untrusted', sink: 'egress' },
]);

/**
 * Who is analysed. `agent`: the agent with this id or name, in `team` when known (the registry knows; otherwise
 * every team is tried).
 * `team`: an agent of the team that no rule names. `any`: an agent no rule names, of a team no rule names.
 */
export type LintPrincipal =
  | { kind: 'agent'; name: string; team?: string }
  | { kind: 'team'; name: string }
  | { kind: 'any' };

export interface LintOptions {
  /** Pairs to look for; `DEFAULT_TOXIC_PAIRS` when absent. Pairs naming a label the bundle never uses are skipped. */
  pairs?: readonly ToxicPair[];
  /** Principals to analyse; every agent and team some rule names, plus "any agent", when absent. */
  principals?: readonly LintPrincipal[];
}

export interface LintRuleRef {
  id: string;
  effect: Effect;
  file: string;
  line: number;
}

export interface LintPath {
  pair: ToxicPair;
  source: string;
  sink: string;
  /** Allow and flag rules that may admit the source call; empty when only an approval can. */
  sourceAllowedBy: LintRuleRef[];
  sinkAllowedBy: LintRuleRef[];
  /** For an agent of unknown team: the path needs the agent to be in this team. */
  ifTeam?: string;
}

export interface LintGate extends LintRuleRef {
  /** Which call of the path waits for a person. */
  at: 'source' | 'sink';
}

export interface GatedLintPath extends LintPath {
  gatedBy: LintGate[];
}

export interface WindowedLintPath extends LintPath {
  /** Deny or approve rules that stop the sink right after the source, but only within their history window. */
  blockedBy: LintRuleRef[];
}

export interface PrincipalLint {
  principal: LintPrincipal;
  /** `agent coder`, `team ops`, `any agent`. */
  label: string;
  toxic: LintPath[];
  gated: GatedLintPath[];
  windowed: WindowedLintPath[];
}

export interface LintReport {
  bundleVersion: string;
  /** The pairs analysed, in the order asked for. */
  pairs: ToxicPair[];
  /** Pairs skipped because the bundle gives no tool one of their labels. */
  skippedPairs: ToxicPair[];
  /** Candidate tool names, representatives of globs included, sorted. */
  tools: string[];
  /** Glob patterns no representative name could be made for; tools they match are not analysed. */
  unanalysedPatterns: string[];
  warnings: string[];
  principals: PrincipalLint[];
  summary: { principals: number; toxic: number; gated: number; windowed: number };
}

const NO_TAINT: Taint = Object.freeze({ secrecy: [], integrity: [] }) as Taint;
const MAX_REPRESENTATIVES = 16;

/**
 * Finds the toxic label combinations each principal can reach in one session; pure and deterministic.
 */
export function lintBundle(bundle: CompiledBundle, options: LintOptions = {}): LintReport {
  const warnings: string[] = [];
  const { tools, unanalysed } = candidateTools(bundle, bundle.toolPatterns);
  const pairs: ToxicPair[] = [];
  const skippedPairs: ToxicPair[] = [];
  const seenPairs = new Set<string>();
  for (const pair of options.pairs ?? DEFAULT_TOXIC_PAIRS) {
    const key = `${pair.source}\u0000${pair.sink}`;
    if (seenPairs.has(key)) continue;
    seenPairs.add(key);
    const used = bundle.knownLabels.has(pair.source) && bundle.knownLabels.has(pair.sink);
    (used ? pairs : skippedPairs).push({ source: pair.source, sink: pair.sink });
  }
  const named = namedPrincipals(bundle);
  const judge = createJudge(bundle);
  const principals = (options.principals ?? [...named.agents, ...named.teams, { kind: 'any' as const }]).map(
    (who) => lintPrincipal(bundle, judge, normalizePrincipal(who), pairs, tools, named.teamNames),
  );
  const count = (key: 'toxic' | 'gated' | 'windowed') =>
    principals.reduce((total, entry) => total + entry[key].length, 0);
  return {
    bundleVersion: bundle.version,
    pairs,
    skippedPairs,
    tools,
    unanalysedPatterns: unanalysed,
    warnings,
    principals,
    summary: {
      principals: principals.length,
      toxic: count('toxic'),
      gated: count('gated'),
      windowed: count('windowed'),
    },
  };
}

/** Renders a report as plain terminal lines, one per path, ending with a summary line. */
export function formatLintReport(report: LintReport): string {
  const lines: string[] = [];
  const section = <T extends LintPath>(
    title: string,
    pick: (entry: PrincipalLint) => T[],
    suffix: (path: T) => string,
  ) => {
    const rows = report.principals.flatMap((entry) =>
      pick(entry).map((path) => `  ${entry.label}: ${describePath(path)}${suffix(path)}`),
    );
    if (rows.length > 0) lines.push(`${title} (${rows.length}):`, ...rows);
  };
  const scope = `${plural(report.summary.principals, 'principal')}, ${plural(report.pairs.length, 'pair')}, ${plural(report.tools.length, 'tool')}`;
  if (report.summary.toxic === 0) lines.push(`no toxic combinations (${scope})`);
  section(
    'toxic combinations',
    (entry) => entry.toxic,
    () => '',
  );
  section(
    'gated by human approval',
    (entry) => entry.gated,
    (path) =>
      `  approval: ${path.gatedBy.map((gate) => `${formatRuleRef(gate)} on the ${gate.at}`).join(', ')}`,
  );
  section(
    'blocked only within a history window, which other calls can outrun',
    (entry) => entry.windowed,
    (path) => `  window: ${path.blockedBy.map(formatRuleRef).join(', ')}`,
  );
  if (report.skippedPairs.length > 0) {
    lines.push(`skipped (labels not used by the bundle): ${report.skippedPairs.map(formatPair).join(', ')}`);
  }
  if (report.unanalysedPatterns.length > 0) {
    lines.push(`not analysed (no representative tool name): ${report.unanalysedPatterns.join(', ')}`);
  }
  for (const warning of report.warnings) lines.push(`warning: ${warning}`);
  const { toxic, gated, windowed } = report.summary;
  lines.push(`summary: ${toxic} toxic, ${gated} gated, ${windowed} windowed (${scope})`);
  return lines.join('\n');
}

/** One concrete reading of a principal: which agent (null: one no rule names) in which team (null: likewise). */
interface Subject {
  agent: string | null;
  team: string | null;
}

type PathFinding =
  | { kind: 'toxic'; path: LintPath }
  | { kind: 'windowed'; path: WindowedLintPath }
  | { kind: 'gated'; path: GatedLintPath };

const FINDING_RANK = { toxic: 0, windowed: 1, gated: 2 } as const;

function lintPrincipal(
  bundle: CompiledBundle,
  judge: Judge,
  who: LintPrincipal,
  pairs: readonly ToxicPair[],
  tools: readonly string[],
  teams: readonly string[],
): PrincipalLint {
  const entry: PrincipalLint = { principal: who, label: labelOf(who), toxic: [], gated: [], windowed: [] };
  const carrying = (label: string) => tools.filter((tool) => bundle.labelsOf(tool).includes(label));
  // An agent of unknown team is analysed in each team a rule names and in none of them; the same team must hold
  // for both calls of a path, so a team's allow rule is never paired with another team's missing deny.
  const subjects: Subject[] =
    who.kind === 'agent'
      ? who.team === undefined
        ? [null, ...teams].map((team) => ({ agent: who.name, team }))
        : [{ agent: who.name, team: who.team }]
      : [{ agent: null, team: who.kind === 'team' ? who.name : null }];
  for (const pair of pairs) {
    const sinks = carrying(pair.sink);
    for (const source of carrying(pair.source)) {
      for (const sink of sinks) {
        let best: PathFinding | undefined;
        for (const subject of subjects) {
          const finding = judgePath(judge, subject, pair, source, sink);
          if (finding && (!best || FINDING_RANK[finding.kind] < FINDING_RANK[best.kind])) {
            // Name the team only when the finding depends on it.
            if (who.kind === 'agent' && who.team === undefined && subject.team !== null) {
              finding.path.ifTeam = subject.team;
            }
            best = finding;
          }
        }
        if (best?.kind === 'toxic') entry.toxic.push(best.path);
        else if (best?.kind === 'windowed') entry.windowed.push(best.path);
        else if (best?.kind === 'gated') entry.gated.push(best.path);
      }
    }
  }
  return entry;
}

function judgePath(
  judge: Judge,
  subject: Subject,
  pair: ToxicPair,
  source: string,
  sink: string,
): PathFinding | undefined {
  const first = judge(subject, source, undefined);
  if (first.status === 'blocked') return undefined;
  const next = judge(subject, sink, { source, windowed: true });
  // After other calls have pushed the source out of every history window; its taint stays for the session.
  const later = judge(subject, sink, { source, windowed: false });
  const path: LintPath = {
    pair,
    source,
    sink,
    sourceAllowedBy: first.allowedBy.map(refOf),
    sinkAllowedBy: next.allowedBy.map(refOf),
  };
  const nextStatus = combine(first.status, next.status);
  const laterStatus = combine(first.status, later.status);
  if (nextStatus === 'open') return { kind: 'toxic', path };
  if (laterStatus === 'open')
    return { kind: 'windowed', path: { ...path, blockedBy: next.firing.map(refOf) } };
  if (laterStatus === 'blocked') return undefined;
  const gatedBy = [
    ...first.gates.map((rule): LintGate => ({ ...refOf(rule), at: 'source' })),
    ...later.gates.map((rule): LintGate => ({ ...refOf(rule), at: 'sink' })),
  ];
  return { kind: 'gated', path: { ...path, gatedBy } };
}

type CallStatus = 'open' | 'gated' | 'blocked';

interface CallVerdict {
  status: CallStatus;
  /** Allow and flag rules that may admit the call. */
  allowedBy: CompiledRule[];
  /** Approve rules that hold the call for a person (when the status is `gated`). */
  gates: CompiledRule[];
  /** Deny and approve rules that definitely fire. */
  firing: CompiledRule[];
}

/** The call before this one: the source, still in the history window or pushed out of it. */
interface After {
  source: string;
  windowed: boolean;
}

type Judge = (subject: Subject, tool: string, after: After | undefined) => CallVerdict;

/** Decides calls statically for a subject, memoized: pairs share their sources and sinks. */
function createJudge(bundle: CompiledBundle): Judge {
  const order = new Map(bundle.rules.map((rule, index) => [rule, index]));
  const memo = new Map<string, CallVerdict>();
  return (subject, tool, after) => {
    const key = JSON.stringify([subject.agent, subject.team, tool, after?.source, after?.windowed]);
    let verdict = memo.get(key);
    if (!verdict) {
      const view: SessionView = {
        taint: after ? bundle.taintOf(after.source) : NO_TAINT,
        previous: after?.windowed ? after.source : undefined,
      };
      verdict = judgeCall(bundle.rulesFor(tool), order, subject, view);
      memo.set(key, verdict);
    }
    return verdict;
  };
}

/** What the session looks like when the call is decided: its taint and the one call before it, if any. */
interface SessionView {
  taint: Taint;
  previous: string | undefined;
}

function judgeCall(
  rules: ToolRules,
  order: ReadonlyMap<CompiledRule, number>,
  subject: Subject,
  view: SessionView,
): CallVerdict {
  const applies = (rule: CompiledRule) => principalRelation(rule, subject) !== 'never';
  const fires = (rule: CompiledRule) => principalRelation(rule, subject) === 'always' && firesIn(rule, view);
  const allowedBy = [...rules.allow, ...rules.flag]
    .filter(applies)
    .sort((left, right) => (order.get(left) ?? 0) - (order.get(right) ?? 0));
  const denies = rules.deny.filter(fires);
  const approvals = rules.approve.filter(fires);
  const firing = [...denies, ...approvals];
  if (denies.length > 0) return { status: 'blocked', allowedBy, gates: [], firing };
  if (approvals.length > 0) return { status: 'gated', allowedBy, gates: approvals, firing };
  if (allowedBy.length > 0) return { status: 'open', allowedBy, gates: [], firing };
  // Approve outranks the default deny: a call no rule allows can still run once a person approves it.
  const mayApprove = rules.approve.filter(applies);
  if (mayApprove.length > 0) return { status: 'gated', allowedBy, gates: mayApprove, firing };
  return { status: 'blocked', allowedBy, gates: [], firing };
}

function combine(first: CallStatus, second: CallStatus): CallStatus {
  if (first === 'blocked' || second === 'blocked') return 'blocked';
  if (first === 'gated' || second === 'gated') return 'gated';
  return 'open';
}

type Relation = 'always' | 'maybe' | 'never';

/** Can the rule's principal match apply to the subject: always, maybe (labels, review), never? */
function principalRelation(rule: CompiledRule, subject: Subject): Relation {
  const match = rule.spec.principal;
  if (!match) return 'always';
  if (match.agents && (subject.agent === null || !match.agents.includes(subject.agent))) return 'never';
  if (match.teams && (subject.team === null || !match.teams.includes(subject.team))) return 'never';
  const unknown =
    match.review !== undefined || (match.labels !== undefined && Object.keys(match.labels).length > 0);
  return unknown ? 'maybe' : 'always';
}

/**
 * Does a deny or approve rule certainly fire in this session view? Only taint and `after` constraints can be
 * known statically; any argument, CEL, `not_after` or positive limit constraint makes the rule uncertain.
 */
function firesIn(rule: CompiledRule, view: SessionView): boolean {
  if (rule.args.length > 0 || rule.condition !== undefined || rule.notAfter.length > 0) return false;
  // A limit of 0 is always reached, so it constrains nothing.
  if (rule.limit !== undefined && rule.limit.count > 0) return false;
  if (rule.taint !== undefined && !taintSatisfied(rule.taint, view.taint)) return false;
  const { previous } = view;
  if (rule.after.length === 0) return true;
  // Every window admits the very next call: steps >= 1, and no time need pass.
  return (
    previous !== undefined &&
    rule.after.every((check) => check.outcome !== 'denied' && check.matchesTool(previous))
  );
}

/** Mirrors `decide`: each named axis must carry at least one of the rule's labels. */
function taintSatisfied(check: TaintCheck, taint: Taint): boolean {
  const has = (labels: readonly string[], wanted: ReadonlySet<string> | undefined) =>
    wanted === undefined || labels.some((label) => wanted.has(label));
  if (check.any && !has(taint.secrecy, check.any) && !has(taint.integrity, check.any)) return false;
  return has(taint.secrecy, check.secrecy) && has(taint.integrity, check.integrity);
}

function namedPrincipals(bundle: CompiledBundle): {
  agents: LintPrincipal[];
  teams: LintPrincipal[];
  teamNames: string[];
} {
  const agents = new Set<string>();
  const teams = new Set<string>();
  for (const rule of bundle.rules) {
    for (const agent of rule.spec.principal?.agents ?? []) agents.add(agent);
    for (const team of rule.spec.principal?.teams ?? []) teams.add(team);
  }
  const teamNames = [...teams].sort();
  return {
    agents: [...agents].sort().map((name): LintPrincipal => ({ kind: 'agent', name })),
    teams: teamNames.map((name): LintPrincipal => ({ kind: 'team', name })),
    teamNames,
  };
}

/** A copy without undefined fields, so the report survives a JSON round trip unchanged. */
function normalizePrincipal(who: LintPrincipal): LintPrincipal {
  switch (who.kind) {
    case 'agent':
      return who.team === undefined
        ? { kind: 'agent', name: who.name }
        : { kind: 'agent', name: who.name, team: who.team };
    case 'team':
      return { kind: 'team', name: who.name };
    case 'any':
      return { kind: 'any' };
  }
}

function candidateTools(
  bundle: CompiledBundle,
  patterns: readonly string[],
): { tools: string[]; unanalysed: string[] } {
  const names = new Set<string>();
  const unanalysed = new Set<string>();
  const add = (pattern: string) => {
    if (!isGlob(pattern)) {
      names.add(pattern);
      return;
    }
    const representatives = representativesOf(pattern);
    if (representatives.length === 0) unanalysed.add(pattern);
    for (const name of representatives) names.add(name);
  };
  for (const pattern of patterns) add(pattern);
  for (const rule of bundle.rules) {
    const { spec } = rule;
    for (const pattern of spec.tool?.names ?? []) add(pattern);
    for (const match of [...(spec.after ?? []), ...(spec.not_after ?? [])])
      for (const pattern of match.tool ?? []) add(pattern);
    if (spec.limit && 'tool' in spec.limit.of) for (const pattern of spec.limit.of.tool) add(pattern);
  }
  return { tools: [...names].sort(), unanalysed: [...unanalysed].sort() };
}

/**
 * Names standing for the tools a glob matches: the glob's own text, with each `{a,b}` alternative spelled out
 * (`{github,gitlab}.*` gives `github.*` and `gitlab.*`), kept only when the glob matches it.
 */
function representativesOf(pattern: string): string[] {
  const matches = compileNameMatcher([pattern]);
  return expandBraces(pattern)
    .filter((name) => matches(name))
    .slice(0, MAX_REPRESENTATIVES);
}

function expandBraces(pattern: string, depth = 0): string[] {
  const found = /\{([^{}]*,[^{}]*)\}/.exec(pattern);
  if (!found || depth > 4) return [pattern];
  const head = pattern.slice(0, found.index);
  const tail = pattern.slice(found.index + found[0].length);
  return (found[1] ?? '')
    .split(',')
    .flatMap((alternative) => expandBraces(`${head}${alternative}${tail}`, depth + 1))
    .slice(0, MAX_REPRESENTATIVES);
}

function refOf(rule: CompiledRule): LintRuleRef {
  return { id: rule.id, effect: rule.effect, file: rule.file, line: rule.line };
}

function labelOf(who: LintPrincipal): string {
  switch (who.kind) {
    case 'agent':
      return who.team === undefined ? `agent ${who.name}` : `agent ${who.name} (team ${who.team})`;
    case 'team':
      return `team ${who.name}`;
    case 'any':
      return 'any agent';
  }
}

function describePath(path: LintPath): string {
  const admitted = (refs: readonly LintRuleRef[]) =>
    refs.length === 0 ? 'approval only' : `allowed by ${refs.map(formatRuleRef).join(', ')}`;
  const team = path.ifTeam === undefined ? '' : `  if in team ${path.ifTeam}`;
  return `${formatPair(path.pair)}  ${path.source} (${admitted(path.sourceAllowedBy)}) -> ${path.sink} (${admitted(path.sinkAllowedBy)})${team}`;
}

function formatRuleRef(ref: LintRuleRef): string {
  const effect = ref.effect === 'allow' || ref.effect === 'deny' ? '' : ` [${ref.effect}]`;
  return `${ref.id} ${ref.file}:${ref.line}${effect}`;
}

function formatPair(pair: ToxicPair): string {
  return `${pair.source} -> ${pair.sink}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
