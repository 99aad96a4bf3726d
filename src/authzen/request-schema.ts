import { z } from 'zod';
import { EVALUATIONS_SEMANTICS } from './types.js';

/**
 * Zod schemas of the AuthZEN request entities. Objects are not strict: the spec requires a PDP to ignore
 * unknown fields, so they are dropped, never rejected. Every required field and every type is checked, so a
 * missing `subject.id` or an `action.name` of `123` is a 400, as the certification demands.
 */

/** Longest `type`, `id` or action `name` accepted; identifiers, not documents. */
export const MAX_NAME_LENGTH = 1024;
/** Most items one Access Evaluations request may hold. */
export const MAX_EVALUATIONS = 1000;

const described = (expected: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is required' : `must be ${expected}`;

const NameSchema = z
  .string({ error: described('a string') })
  .min(1, 'must not be empty')
  .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`);

export const JsonObjectSchema = z.record(z.string(), z.unknown(), { error: described('a JSON object') });

export const SubjectSchema = z.object(
  { type: NameSchema, id: NameSchema, properties: JsonObjectSchema.optional() },
  { error: described('an object with `type` and `id`') },
);

export const ActionSchema = z.object(
  { name: NameSchema, properties: JsonObjectSchema.optional() },
  { error: described('an object with `name`') },
);

export const ResourceSchema = z.object(
  { type: NameSchema, id: NameSchema, properties: JsonObjectSchema.optional() },
  { error: described('an object with `type` and `id`') },
);

/** The Access Evaluation request: the 4-tuple, every member but `context` required. */
export const EvaluationSchema = z.object({
  subject: SubjectSchema,
  action: ActionSchema,
  resource: ResourceSchema,
  context: JsonObjectSchema.optional(),
});

/** The top level of an Access Evaluations request: defaults, the items (checked one by one), and options. */
export const EvaluationsEnvelopeSchema = z.object({
  subject: SubjectSchema.optional(),
  action: ActionSchema.optional(),
  resource: ResourceSchema.optional(),
  context: JsonObjectSchema.optional(),
  evaluations: z
    .array(z.unknown(), { error: described('an array') })
    .max(MAX_EVALUATIONS, `must hold at most ${MAX_EVALUATIONS} items`)
    .optional(),
  options: z
    .object(
      {
        evaluations_semantic: z
          .enum(EVALUATIONS_SEMANTICS, { error: `must be one of ${EVALUATIONS_SEMANTICS.join(', ')}` })
          .optional(),
      },
      { error: described('a JSON object') },
    )
    .optional(),
});
