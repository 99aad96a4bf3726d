import {
  describeIssues,
  invalid,
  parseEvaluationRequest,
  requireJsonObject,
  withoutUndefined,
} from './parse-evaluation.js';
import { EvaluationSchema, EvaluationsEnvelopeSchema } from './request-schema.js';
import type { BatchItem, JsonObject, ParsedEvaluations } from './types.js';

const ENTITY_KEYS = ['subject', 'action', 'resource', 'context'] as const;

/**
 * Reads an Access Evaluations request body (already JSON-parsed).
 *
 * - Without `evaluations`, or with an empty array, it is a single Access Evaluation request (the spec's
 *   backwards-compatible mode), and `subject`, `action` and `resource` are required at the top level.
 * - Otherwise the top-level `subject`, `action`, `resource` and `context` are defaults: an item that omits a key
 *   inherits the whole top-level value, an item that has the key replaces it whole (no merging of sub-fields).
 * - Whole-payload problems (not an object, a malformed top-level default, `evaluations` not an array, an unknown
 *   `options.evaluations_semantic`) throw `validation_failed` (HTTP 400). An item that is incomplete after the
 *   defaults is returned as a failed item instead, to be answered `decision: false` in its place.
 */
export function parseEvaluationsRequest(body: unknown): ParsedEvaluations {
  const object = requireJsonObject(body);
  const envelope = EvaluationsEnvelopeSchema.safeParse(object);
  if (!envelope.success) throw invalid('invalid evaluations request', envelope.error.issues);
  const { evaluations, options } = envelope.data;
  if (evaluations === undefined || evaluations.length === 0) {
    return { kind: 'single', evaluation: parseEvaluationRequest(object) };
  }
  const defaults = object;
  const items = evaluations.map((item, index): BatchItem => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      return failed(`\`evaluations.${index}\` must be a JSON object`);
    }
    const merged: JsonObject = {};
    for (const key of ENTITY_KEYS) {
      const own = (item as JsonObject)[key];
      const value = own !== undefined ? own : defaults[key];
      if (value !== undefined) merged[key] = value;
    }
    const parsed = EvaluationSchema.safeParse(merged);
    if (parsed.success) return { ok: true, evaluation: withoutUndefined(parsed.data) };
    return failed(
      `invalid evaluation \`evaluations.${index}\` (after defaults): ${describeIssues(parsed.error.issues)
        .map((issue) => `\`${issue.path}\` ${issue.message}`)
        .join('; ')}`,
    );
  });
  return { kind: 'batch', semantic: options?.evaluations_semantic ?? 'execute_all', items };
}

function failed(message: string): BatchItem {
  return { ok: false, error: { status: 400, code: 'validation_failed', message } };
}
