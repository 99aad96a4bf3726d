import { createHash } from 'node:crypto';
import { GatehouseError } from '../errors/index.js';
import type { HistoryMatchSpec, RuleSpec } from './bundle-schema.js';
import { compileCondition } from './cel.js';
import type {
  CompiledBundle,
  CompiledRule,
  HistoryCheck,
  LimitCheck,
  TaintCheck,
  ToolRules,
} from './compiled-bundle.js';
import { compileArgConstraint } from './matchers.js';
import { compileNameMatcher, isGlob, type NameMatcher } from './name-matcher.js';
import {
  formatPolicyProblem,
  type ParsedPolicyFile,
  type PolicyProblem,
  type PolicySource,
  parsePolicySources,
} from './parse-sources.js';
import type { Principal, Taint } from './types.js';

const DEFAULT_INTEGRITY_LABELS = ['untrusted'];
const READS_PREFIX = 'reads:';
/** Memo tables are per tool name; tool names come from callers, so they are bounded. */
const MEMO_LIMIT = 10_000;

export type BundleCheck = { ok: true; bundle: CompiledBundle } | { ok: false; problems: PolicyProblem[] };

/** Compiles a bundle, or reports every problem found (file, line, rule) without producing a half-loaded one. */
export function checkBundle(
  sources: readonly PolicySource[],
  options: { version?: string } = {},
): BundleCheck {
  if (sources.length === 0)
    return { ok: false, problems: [{ file: '(bundle)', message: 'the bundle has no policy files' }] };
  const { files, problems } = parsePolicySources(sources);
  if (problems.length > 0) return { ok: false, problems };
  const compiler = new BundleCompiler(files);
  const bundle = compiler.compile(digestOf(sources), options.version);
  return compiler.problems.length > 0 ? { ok: false, problems: compiler.problems } : { ok: true, bundle };
}

/** Like `checkBundle`, but throws `policy_invalid` listing the problems. */
export function compileBundle(
  sources: readonly PolicySource[],
  options: { version?: string } = {},
): CompiledBundle {
  const result = checkBundle(sources, options);
  if (result.ok) return result.bundle;
  throw new GatehouseError(
    'policy_invalid',
    `policy bundle does not compile (${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}): ${result.problems.map(formatPolicyProblem).join('; ')}`,
    { details: { problems: result.problems } },
  );
}

export function digestOf(sources: readonly PolicySource[]): string {
  const hash = createHash('sha256');
  for (const source of [...sources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    hash.update(
      `${Buffer.byteLength(source.name)}:${source.name}${Buffer.byteLength(source.text)}:${source.text}`,
    );
  }
  return `sha256:${hash.digest('hex')}`;
}

class BundleCompiler {
  readonly problems: PolicyProblem[] = [];
  private readonly toolEntries: Array<{ match: NameMatcher; labels: string[] }> = [];
  private readonly toolPatterns = new Set<string>();
  /** label -> groups that include it, transitively. */
  private readonly groupsOf = new Map<string, Set<string>>();
  private readonly knownLabels = new Set<string>();
  private readonly taintNames = new Set<string>();
  private readonly integrityLabels = new Set<string>();

  constructor(private readonly files: readonly ParsedPolicyFile[]) {}

  compile(digest: string, version: string | undefined): CompiledBundle {
    this.collectToolFacts();
    const rules = this.compileRules();
    const labelsOf = memoize((tool: string) => this.labelsOfUncached(tool));
    const taintOf = memoize((tool: string) => this.taintOfLabels(labelsOf(tool)));
    const rulesFor = memoize((tool: string) => groupByEffect(rules, tool, labelsOf(tool)));
    return {
      version: version ?? digest.slice('sha256:'.length, 'sha256:'.length + 12),
      digest,
      files: this.files.map((file) => file.name),
      rules,
      toolPatterns: [...this.toolPatterns],
      knownLabels: this.knownLabels,
      labelsOf,
      taintOf,
      rulesFor,
    };
  }

  private collectToolFacts(): void {
    const groups = new Map<string, { includes: string[]; file: string }>();
    for (const file of this.files) {
      for (const label of file.content.integrity_labels ?? []) this.integrityLabels.add(label);
      for (const entry of file.content.tools ?? []) {
        this.toolEntries.push({ match: compileNameMatcher(entry.match), labels: entry.labels });
        for (const pattern of entry.match) this.toolPatterns.add(pattern);
        for (const label of entry.labels) this.knownLabels.add(label);
      }
      for (const [name, group] of Object.entries(file.content.labels ?? {})) {
        if (groups.has(name))
          this.problem(file.name, undefined, undefined, `label group \`${name}\` is defined twice`);
        groups.set(name, { includes: group.includes, file: file.name });
        this.knownLabels.add(name);
      }
    }
    if (this.integrityLabels.size === 0)
      for (const label of DEFAULT_INTEGRITY_LABELS) this.integrityLabels.add(label);
    for (const [name, group] of groups) {
      const cycle = findCycle(name, groups);
      if (cycle) {
        this.problem(group.file, undefined, undefined, `label groups form a cycle: ${cycle.join(' -> ')}`);
        continue;
      }
      for (const member of expandGroup(name, groups)) {
        const owners = this.groupsOf.get(member) ?? new Set<string>();
        owners.add(name);
        this.groupsOf.set(member, owners);
      }
    }
    for (const label of this.knownLabels) {
      if (label.startsWith(READS_PREFIX)) this.taintNames.add(label.slice(READS_PREFIX.length));
    }
  }

  private compileRules(): CompiledRule[] {
    const rules: CompiledRule[] = [];
    const seen = new Map<string, string>();
    for (const file of this.files) {
      (file.content.rules ?? []).forEach((spec, index) => {
        const line = file.ruleLines[index] ?? 1;
        const where = `${file.name}:${line}`;
        const earlier = seen.get(spec.id);
        if (earlier)
          this.problem(file.name, line, spec.id, `duplicate rule id (first defined at ${earlier})`);
        else seen.set(spec.id, where);
        const rule = this.compileRule(spec, file.name, line);
        if (rule) rules.push(rule);
      });
    }
    return rules;
  }

  private compileRule(spec: RuleSpec, file: string, line: number): CompiledRule | undefined {
    const report = (message: string) => this.problem(file, line, spec.id, message);
    for (const label of [
      ...(spec.tool?.labels ?? []),
      ...[...(spec.after ?? []), ...(spec.not_after ?? [])].flatMap((match) => match.label ?? []),
      ...(spec.limit && 'label' in spec.limit.of ? spec.limit.of.label : []),
    ]) {
      if (!this.labelIsKnown(label))
        report(`label \`${label}\` is not given to any tool or defined as a group`);
    }
    for (const name of [
      ...(spec.taint?.any ?? []),
      ...(spec.taint?.secrecy ?? []),
      ...(spec.taint?.integrity ?? []),
    ]) {
      if (!this.taintNames.has(name))
        report(`taint \`${name}\` is never set: no tool carries \`reads:${name}\``);
    }
    let condition: CompiledRule['condition'];
    if (spec.condition !== undefined) {
      const compiled = compileCondition(spec.condition);
      if (compiled.ok) condition = compiled.program;
      else report(compiled.message);
    }
    const args: CompiledRule['args'] = Object.entries(spec.args ?? {}).map(([name, constraint]) => {
      try {
        return { name, test: compileArgConstraint(constraint) };
      } catch (error) {
        report(`argument \`${name}\`: ${(error as Error).message}`);
        return { name, test: () => false };
      }
    });
    return {
      id: spec.id,
      effect: spec.effect,
      reason: spec.reason ?? spec.description ?? `rule \`${spec.id}\``,
      approvers: spec.approvers ?? 1,
      terminate: spec.terminate ?? false,
      file,
      line,
      spec,
      matchesTool: compileToolMatch(spec),
      matchesPrincipal: compilePrincipalMatch(spec),
      args,
      taint: compileTaintCheck(spec),
      after: (spec.after ?? []).map((match) => this.compileHistoryCheck(match)),
      notAfter: (spec.not_after ?? []).map((match) => this.compileHistoryCheck(match)),
      limit: compileLimit(spec),
      condition,
    };
  }

  private compileHistoryCheck(match: HistoryMatchSpec): HistoryCheck {
    const tools = match.tool ? compileNameMatcher(match.tool) : undefined;
    const labels = match.label ? compileNameMatcher(match.label) : undefined;
    return {
      matchesTool: memoize(
        (tool: string) =>
          (tools === undefined || tools(tool)) &&
          (labels === undefined || this.labelsOfUncached(tool).some((label) => labels(label))),
      ),
      outcome: match.outcome,
      steps: match.within?.steps,
      millis: match.within?.seconds === undefined ? undefined : match.within.seconds * 1000,
    };
  }

  private labelIsKnown(label: string): boolean {
    if (!isGlob(label)) return this.knownLabels.has(label);
    const matcher = compileNameMatcher([label]);
    return [...this.knownLabels].some((known) => matcher(known));
  }

  private labelsOfUncached(tool: string): string[] {
    const labels = new Set<string>();
    for (const entry of this.toolEntries) {
      if (!entry.match(tool)) continue;
      for (const label of entry.labels) {
        labels.add(label);
        for (const group of this.groupsOf.get(label) ?? []) labels.add(group);
      }
    }
    return [...labels].sort();
  }

  private taintOfLabels(labels: readonly string[]): Taint {
    const secrecy: string[] = [];
    const integrity: string[] = [];
    for (const label of labels) {
      if (!label.startsWith(READS_PREFIX)) continue;
      const name = label.slice(READS_PREFIX.length);
      (this.integrityLabels.has(name) ? integrity : secrecy).push(name);
    }
    return { secrecy, integrity };
  }

  private problem(file: string, line: number | undefined, ruleId: string | undefined, message: string): void {
    this.problems.push({
      file,
      ...(line === undefined ? {} : { line }),
      ...(ruleId === undefined ? {} : { ruleId }),
      message,
    });
  }
}

function compileToolMatch(spec: RuleSpec): CompiledRule['matchesTool'] {
  if (!spec.tool) return undefined;
  const names = spec.tool.names ? compileNameMatcher(spec.tool.names) : undefined;
  const labels = spec.tool.labels ? compileNameMatcher(spec.tool.labels) : undefined;
  // Names and labels both given: the tool must satisfy both.
  return (tool, toolLabels) =>
    (names === undefined || names(tool)) &&
    (labels === undefined || toolLabels.some((label) => labels(label)));
}

function compilePrincipalMatch(spec: RuleSpec): CompiledRule['matchesPrincipal'] {
  const match = spec.principal;
  if (!match) return undefined;
  const agents = match.agents ? new Set(match.agents) : undefined;
  const teams = match.teams ? new Set(match.teams) : undefined;
  const review = match.review ? new Set(match.review) : undefined;
  const labels = match.labels
    ? Object.entries(match.labels).map(([key, values]) => [key, new Set(values)] as const)
    : undefined;
  return (principal: Principal) =>
    (agents === undefined ||
      agents.has(principal.id) ||
      (principal.name !== undefined && agents.has(principal.name))) &&
    (teams === undefined || (principal.team !== undefined && teams.has(principal.team))) &&
    (review === undefined || (principal.review !== undefined && review.has(principal.review))) &&
    (labels === undefined ||
      labels.every(([key, values]) => {
        const value = principal.labels?.[key];
        return value !== undefined && values.has(value);
      }));
}

function compileTaintCheck(spec: RuleSpec): TaintCheck | undefined {
  if (!spec.taint) return undefined;
  const set = (values: string[] | undefined) => (values ? new Set(values) : undefined);
  return { any: set(spec.taint.any), secrecy: set(spec.taint.secrecy), integrity: set(spec.taint.integrity) };
}

function compileLimit(spec: RuleSpec): LimitCheck | undefined {
  if (!spec.limit) return undefined;
  const { of } = spec.limit;
  return {
    count: spec.limit.count,
    per: spec.limit.per,
    tools: 'tool' in of ? compileNameMatcher(of.tool) : undefined,
    labels: 'label' in of ? compileNameMatcher(of.label) : undefined,
  };
}

function groupByEffect(rules: readonly CompiledRule[], tool: string, labels: readonly string[]): ToolRules {
  const groups = {
    deny: [] as CompiledRule[],
    approve: [] as CompiledRule[],
    flag: [] as CompiledRule[],
    allow: [] as CompiledRule[],
  };
  for (const rule of rules) {
    if (rule.matchesTool === undefined || rule.matchesTool(tool, labels)) groups[rule.effect].push(rule);
  }
  return groups;
}

function findCycle(start: string, groups: ReadonlyMap<string, { includes: string[] }>): string[] | undefined {
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (path.includes(name)) return [...path.slice(path.indexOf(name)), name];
    const group = groups.get(name);
    if (!group) return undefined;
    path.push(name);
    for (const member of group.includes) {
      const cycle = visit(member);
      if (cycle) return cycle;
    }
    path.pop();
    return undefined;
  };
  return visit(start);
}

function expandGroup(name: string, groups: ReadonlyMap<string, { includes: string[] }>): Set<string> {
  const members = new Set<string>();
  const pending = [...(groups.get(name)?.includes ?? [])];
  while (pending.length > 0) {
    const member = pending.pop() as string;
    if (members.has(member)) continue;
    members.add(member);
    pending.push(...(groups.get(member)?.includes ?? []));
  }
  return members;
}

function memoize<T>(compute: (key: string) => T): (key: string) => T {
  const memo = new Map<string, T>();
  return (key) => {
    let value = memo.get(key);
    if (value === undefined && !memo.has(key)) {
      if (memo.size >= MEMO_LIMIT) memo.clear();
      value = compute(key);
      memo.set(key, value);
    }
    return value as T;
  };
}
