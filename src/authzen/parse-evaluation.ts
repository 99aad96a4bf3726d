import type { z } from 'zod';
import { GatehouseError } from '../errors/index.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from './json-depth.js';
import { EvaluationSchema } from './request-schema.js';
import type { AuthzenEvaluation, JsonObject } from './types.js';

/**
 * Reads an Access Evaluation request body (already JSON-parsed). Throws `validation_failed` (HTTP 400) naming
 * every missing or mistyped field; unknown fields are ignored, as the spec requires.
 * @example parseEvaluationRequest({ subject: { type: 'user', id: 'alice' }, action: { name: 'read' },
 *   resource: { type: 'record', id: 'record-1' } })
 */
export function parseEvaluationRequest(body: unknown): AuthzenEvaluation {
  const object = requireJsonObject(body);
  const parsed = EvaluationSchema.safeParse(object);
  if (!parsed.success) throw invalid('invalid evaluation request', parsed.error.issues);
  return withoutUndefined(parsed.data);
}

/** The body as an object no deeper than `MAX_JSON_DEPTH`, or a `validation_failed` error. */
export function requireJsonObject(body: unknown): JsonObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new GatehouseError('validation_failed', 'the request body must be a JSON object', {
      details: { issues: [{ path: '/', message: 'must be a JSON object' }] },
    });
  }
  if (exceedsJsonDepth(body)) {
    throw new GatehouseError(
      'validation_failed',
      `the request body nests deeper than ${MAX_JSON_DEPTH} levels`,
      {
        details: { issues: [{ path: '/', message: `nests deeper than ${MAX_JSON_DEPTH} levels` }] },
      },
    );
  }
  return body as JsonObject;
}

/** One message per issue, `\`subject.id\` is required`, in the order zod found them. */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
): Array<{ path: string; message: string }> {
  return issues.map((issue) => ({
    path: issue.path.length === 0 ? '/' : issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

export function invalid(what: string, issues: readonly z.core.$ZodIssue[]): GatehouseError {
  const described = describeIssues(issues);
  return new GatehouseError(
    'validation_failed',
    `${what}: ${described.map((issue) => `\`${issue.path}\` ${issue.message}`).join('; ')}`,
    { details: { issues: described } },
  );
}

/** Drops absent optional members so an evaluation compares and serialises the same however it was built. */
export function withoutUndefined(evaluation: z.output<typeof EvaluationSchema>): AuthzenEvaluation {
  const entity = <T extends { properties?: JsonObject | undefined }>(value: T): T => {
    const { properties, ...rest } = value;
    return (properties === undefined ? rest : { ...rest, properties }) as T;
  };
  return {
    subject: entity(evaluation.subject),
    action: entity(evaluation.action),
    resource: entity(evaluation.resource),
    ...(evaluation.context === undefined ? {} : { context: evaluation.context }),
  };
}
