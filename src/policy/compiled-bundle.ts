import type { RuleSpec } from './bundle-schema.js';
import type { CelProgram } from './cel.js';
import type { NameMatcher } from './name-matcher.js';
import type { Effect, Principal, Taint } from './types.js';

/** What the bundle's configuration says about a tool: its labels (groups expanded) and the taint it carries. */
export interface ToolFacts {
  labelsOf(tool: string): readonly string[];
  taintOf(tool: string): Taint;
}

/** "A call matching X happened within the window" — the compiled form of `after` / `not_after`. */
export interface HistoryCheck {
  /** True when the tool satisfies the check's tool and label filters; memoized per tool. */
  matchesTool(tool: string): boolean;
  outcome: 'allowed' | 'denied' | 'any';
  steps: number | undefined;
  /** Window in milliseconds. */
  millis: number | undefined;
}

export interface LimitCheck {
  count: number;
  per: 'session' | 'hour' | 'day';
  tools: NameMatcher | undefined;
  labels: NameMatcher | undefined;
}

export interface TaintCheck {
  any: ReadonlySet<string> | undefined;
  secrecy: ReadonlySet<string> | undefined;
  integrity: ReadonlySet<string> | undefined;
}

export interface CompiledRule {
  id: string;
  effect: Effect;
  reason: string;
  approvers: number;
  terminate: boolean;
  file: string;
  line: number;
  /** The rule as written, for lint and explain. */
  spec: RuleSpec;
  /** Static: does the rule apply to this tool at all? Undefined means every tool. */
  matchesTool: ((tool: string, labels: readonly string[]) => boolean) | undefined;
  matchesPrincipal: ((principal: Principal) => boolean) | undefined;
  args: ReadonlyArray<{ name: string; test: (value: unknown) => boolean }>;
  taint: TaintCheck | undefined;
  after: readonly HistoryCheck[];
  notAfter: readonly HistoryCheck[];
  limit: LimitCheck | undefined;
  condition: CelProgram | undefined;
}

/** The rules that can apply to one tool, split by effect in precedence order. */
export interface ToolRules {
  deny: readonly CompiledRule[];
  approve: readonly CompiledRule[];
  flag: readonly CompiledRule[];
  allow: readonly CompiledRule[];
}

export interface CompiledBundle extends ToolFacts {
  /** Human-facing version label (a store version number or a digest prefix). */
  version: string;
  /** `sha256:` of the sources, independent of file order. */
  digest: string;
  files: readonly string[];
  rules: readonly CompiledRule[];
  /** The `match:` patterns of every `tools:` entry, as written (exact names and globs). */
  toolPatterns: readonly string[];
  /** Every label some tool entry or group defines. */
  knownLabels: ReadonlySet<string>;
  /** The rules whose tool matcher accepts `tool`; memoized, so rules for other tools cost nothing. */
  rulesFor(tool: string): ToolRules;
}
