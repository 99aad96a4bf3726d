import { z } from 'zod';
import { ArgConstraintSchema } from './matchers.js';
import { EFFECTS } from './types.js';

/**
 * The policy file format, validated strictly: an unknown field is an error, not a silently ignored typo.
 * docs/policy.md documents every field; keep the two in step.
 */

/** Longest history a session remembers; `within.steps` may not ask for more. */
export const HISTORY_LIMIT = 128;

const RuleIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'rule ids are 1-100 chars of a-z, 0-9, `.`, `_`, `-`');

const LabelSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9:._*-]{0,99}$/, 'labels are lowercase, like `reads:secret`');
const GlobSchema = z.string().min(1).max(200);

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z
    .union([item, z.array(item).min(1)])
    .transform((value): z.output<T>[] => (Array.isArray(value) ? value : [value]));

const ToolLabelEntrySchema = z.strictObject({
  match: oneOrMany(GlobSchema),
  labels: z.array(LabelSchema).min(1),
});

const LabelGroupSchema = z.strictObject({
  description: z.string().optional(),
  includes: z.array(LabelSchema).min(1),
});

const PrincipalMatchSchema = z.strictObject({
  agents: z.array(z.string().min(1)).min(1).optional(),
  teams: z.array(z.string().min(1)).min(1).optional(),
  labels: z.record(z.string(), oneOrMany(z.string())).optional(),
  review: z.array(z.string().min(1)).min(1).optional(),
});

const ToolMatchSchema = z.union([
  oneOrMany(GlobSchema).transform((names) => ({ names, labels: undefined })),
  z
    .strictObject({
      names: z.array(GlobSchema).min(1).optional(),
      labels: z.array(LabelSchema).min(1).optional(),
    })
    .refine((value) => value.names !== undefined || value.labels !== undefined, 'name `names` or `labels`'),
]);

const WindowSchema = z
  .strictObject({
    steps: z.number().int().min(1).max(HISTORY_LIMIT).optional(),
    seconds: z.number().positive().optional(),
  })
  .refine((value) => value.steps !== undefined || value.seconds !== undefined, 'name `steps` or `seconds`');

const HistoryMatchSchema = z
  .strictObject({
    tool: oneOrMany(GlobSchema).optional(),
    label: oneOrMany(LabelSchema).optional(),
    outcome: z.enum(['allowed', 'denied', 'any']).default('any'),
    within: WindowSchema.optional(),
  })
  .refine((value) => value.tool !== undefined || value.label !== undefined, 'name a `tool` or a `label`');

const TaintMatchSchema = z.union([
  z
    .array(LabelSchema)
    .min(1)
    .transform((any) => ({ any, secrecy: undefined, integrity: undefined })),
  z
    .strictObject({
      secrecy: z.array(LabelSchema).min(1).optional(),
      integrity: z.array(LabelSchema).min(1).optional(),
    })
    .refine(
      (value) => value.secrecy !== undefined || value.integrity !== undefined,
      'name `secrecy` or `integrity`',
    )
    .transform((value) => ({ any: undefined, ...value })),
]);

const LimitSchema = z.strictObject({
  count: z.number().int().min(0),
  per: z.enum(['session', 'hour', 'day']),
  of: z.union([
    z.strictObject({ tool: oneOrMany(GlobSchema) }),
    z.strictObject({ label: oneOrMany(LabelSchema) }),
  ]),
});

export const RuleSchema = z
  .strictObject({
    id: RuleIdSchema,
    description: z.string().max(1000).optional(),
    principal: PrincipalMatchSchema.optional(),
    tool: ToolMatchSchema.optional(),
    args: z.record(z.string().min(1), ArgConstraintSchema).optional(),
    taint: TaintMatchSchema.optional(),
    after: oneOrMany(HistoryMatchSchema).optional(),
    not_after: oneOrMany(HistoryMatchSchema).optional(),
    limit: LimitSchema.optional(),
    condition: z.string().min(1).max(10_000).optional(),
    effect: z.enum(EFFECTS, { error: 'every rule needs an `effect`: allow, deny, flag or approve' }),
    approvers: z.number().int().min(1).max(10).optional(),
    terminate: z.boolean().optional(),
    reason: z.string().max(1000).optional(),
  })
  .superRefine((rule, ctx) => {
    if (rule.approvers !== undefined && rule.effect !== 'approve') {
      ctx.addIssue({
        code: 'custom',
        path: ['approvers'],
        message: '`approvers` only applies to `effect: approve`',
      });
    }
    if (rule.terminate !== undefined && rule.effect !== 'deny') {
      ctx.addIssue({
        code: 'custom',
        path: ['terminate'],
        message: '`terminate` only applies to `effect: deny`',
      });
    }
  });

export const PolicyFileSchema = z.strictObject({
  /** Format version of the file; only 1 exists. */
  version: z.literal(1).optional(),
  description: z.string().optional(),
  /** Names that `reads:<name>` puts on the integrity axis; every other `reads:<name>` is secrecy. */
  integrity_labels: z.array(LabelSchema).optional(),
  tools: z.array(ToolLabelEntrySchema).optional(),
  labels: z.record(LabelSchema, LabelGroupSchema).optional(),
  rules: z.array(RuleSchema).optional(),
});

export type PolicyFile = z.output<typeof PolicyFileSchema>;
export type RuleSpec = z.output<typeof RuleSchema>;
export type HistoryMatchSpec = z.output<typeof HistoryMatchSchema>;
export type LimitSpec = z.output<typeof LimitSchema>;
export type TaintMatchSpec = z.output<typeof TaintMatchSchema>;
