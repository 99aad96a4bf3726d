/**
 * The OpenID AuthZEN Authorization API 1.0 vocabulary, as Gatehouse reads and writes it. Plain data: parsing
 * turns a request body into these, the mapping turns them into a policy `DecisionInput`, and a policy `Decision`
 * turns back into an `AuthzenDecision`.
 */

import type { DecisionCode, Effect } from '../policy/index.js';

/** A JSON object; AuthZEN `properties` and `context` values. */
export type JsonObject = Record<string, unknown>;

export interface AuthzenSubject {
  type: string;
  id: string;
  properties?: JsonObject | undefined;
}

export interface AuthzenAction {
  name: string;
  properties?: JsonObject | undefined;
}

export interface AuthzenResource {
  type: string;
  id: string;
  properties?: JsonObject | undefined;
}

/** One complete access evaluation: the 4-tuple of the Access Evaluation API. */
export interface AuthzenEvaluation {
  subject: AuthzenSubject;
  action: AuthzenAction;
  resource: AuthzenResource;
  context?: JsonObject | undefined;
}

export const EVALUATIONS_SEMANTICS = ['execute_all', 'deny_on_first_deny', 'permit_on_first_permit'] as const;
/** `options.evaluations_semantic` of a batch; `execute_all` when absent. */
export type EvaluationsSemantic = (typeof EVALUATIONS_SEMANTICS)[number];

/** One item of a batch after defaults were applied: a complete evaluation, or why it is not one. */
export type BatchItem = { ok: true; evaluation: AuthzenEvaluation } | { ok: false; error: ItemError };

export interface ItemError {
  /** The HTTP status the item would have had on its own. */
  status: number;
  code: 'validation_failed';
  message: string;
}

/**
 * A parsed Access Evaluations request. Without a non-empty `evaluations` array it is a single evaluation
 * (backwards compatible with the Access Evaluation API) and is answered as one.
 */
export type ParsedEvaluations =
  | { kind: 'single'; evaluation: AuthzenEvaluation }
  | { kind: 'batch'; semantic: EvaluationsSemantic; items: BatchItem[] };

/** Why a decision is what it is, beyond the policy's own codes. */
export type AuthzenDecisionCode =
  | DecisionCode
  /** `subject.type` is `agent` and no registered agent has that id or name. */
  | 'agent_not_found'
  /** The agent is registered but suspended or retired. */
  | 'agent_inactive'
  /** A `tool` resource was asked about with an action other than `call`. */
  | 'unsupported_action';

/** Gatehouse's explanation of a decision, sent as the AuthZEN response `context`. */
export interface AuthzenDecisionContext {
  /** For administrators only (AuthZEN `reason_admin`): the reason in English. */
  reason_admin: { en: string };
  /** The policy effect: `flag` decides `true`, `approve` decides `false`. */
  effect: Effect;
  code: AuthzenDecisionCode;
  rule_ids: string[];
  /** Version of the policy bundle that decided, when a bundle did. */
  policy_version?: string;
  /** Approvals an `approve` rule asks for; an AuthZEN answer cannot wait for them. */
  approvers?: number;
}

/** An item that could not be evaluated: the spec's per-evaluation error, always `decision: false`. */
export interface AuthzenErrorContext {
  error: ItemError;
}

/** The Decision entity of AuthZEN: the response of the Access Evaluation API and each batch item. */
export interface AuthzenDecision {
  decision: boolean;
  context?: AuthzenDecisionContext | AuthzenErrorContext;
}

/** The response of the Access Evaluations API to a batch. */
export interface AuthzenEvaluationsResponse {
  evaluations: AuthzenDecision[];
}

/** The Policy Decision Point metadata served at `/.well-known/authzen-configuration`. */
export interface PdpMetadata {
  policy_decision_point: string;
  access_evaluation_endpoint: string;
  access_evaluations_endpoint: string;
}
