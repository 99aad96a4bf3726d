export { type AgentLookup, decideEvaluation } from './decide-evaluation.js';
export { exceedsJsonDepth, MAX_JSON_DEPTH } from './json-depth.js';
export { parseEvaluationRequest } from './parse-evaluation.js';
export { parseEvaluationsRequest } from './parse-evaluations.js';
export {
  ACCESS_EVALUATION_PATH,
  ACCESS_EVALUATIONS_PATH,
  PDP_METADATA_PATH,
  pdpMetadata,
} from './pdp-metadata.js';
export { MAX_EVALUATIONS, MAX_NAME_LENGTH } from './request-schema.js';
export { runEvaluations } from './run-evaluations.js';
export { itemErrorDecision, refusal, toAuthzenDecision } from './to-authzen-decision.js';
export {
  AGENT_SUBJECT_TYPE,
  type DecisionInputMapping,
  principalOf,
  TOOL_ACTION,
  TOOL_RESOURCE_TYPE,
  toDecisionInput,
} from './to-decision-input.js';
export type {
  AuthzenAction,
  AuthzenDecision,
  AuthzenDecisionCode,
  AuthzenDecisionContext,
  AuthzenErrorContext,
  AuthzenEvaluation,
  AuthzenEvaluationsResponse,
  AuthzenResource,
  AuthzenSubject,
  BatchItem,
  EvaluationsSemantic,
  ItemError,
  JsonObject,
  ParsedEvaluations,
  PdpMetadata,
} from './types.js';
export { EVALUATIONS_SEMANTICS } from './types.js';
