export { HISTORY_LIMIT, type PolicyFile, type RuleSpec } from './bundle-schema.js';
export { type BundleCheck, checkBundle, compileBundle, digestOf } from './compile.js';
export type { CompiledBundle, CompiledRule, ToolFacts, ToolRules } from './compiled-bundle.js';
export { decide, type Explanation, explain, type RuleTrace } from './decide.js';
export { type BundleDiff, type DecisionChange, diffBundles, type RecordedSession } from './diff.js';
export {
  DEFAULT_TOXIC_PAIRS,
  formatLintReport,
  type LintOptions,
  type LintPrincipal,
  type LintReport,
  lintBundle,
  type ToxicPair,
} from './lint.js';
export { formatPolicyProblem, type PolicyProblem, type PolicySource } from './parse-sources.js';
export { outcomeOf, type ReplayCall, type ReplayStep, type ReplaySubject, replaySession } from './replay.js';
export { emptySessionState, type RecordedCall, recordCall } from './session-state.js';
export {
  type CaseProblem,
  type CaseResult,
  parseTestCases,
  runTestSessions,
  type TestRun,
  type TestSession,
} from './test-cases.js';
export * from './types.js';
export { mayEverRun } from './visibility.js';
