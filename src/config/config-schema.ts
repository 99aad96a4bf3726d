import ms from 'ms';
import { z } from 'zod';

/** A duration as `ms` understands it (`90s`, `5m`, `7d`) or a number of milliseconds. */
const DurationSchema = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const parsed = ms(value as ms.StringValue);
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    ctx.addIssue({ code: 'custom', message: `\`${value}\` is not a duration such as 30s, 5m, 7d` });
    return z.NEVER;
  }
  return parsed;
});

const StoreSchema = z.discriminatedUnion('driver', [
  z.strictObject({ driver: z.literal('sqlite'), path: z.string().min(1).optional() }),
  z.strictObject({
    driver: z.literal('postgres'),
    url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .optional(),
    maxConnections: z.number().int().min(1).max(200).optional(),
  }),
]);

/**
 * The whole configuration of a Gatehouse process: the one documented source of truth (see docs/configuration.md).
 * Unknown fields are errors, so a typo never silently falls back to a default.
 */
const UpstreamNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{0,39}$/,
    'upstream names are lowercase letters, digits, `_`, `-` (they prefix tool names)',
  );
const SecretRefSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'a vault secret name');

/** One upstream MCP server: spawned over stdio, or reached over Streamable HTTP. */
const UpstreamSchema = z.discriminatedUnion('transport', [
  z.strictObject({
    name: UpstreamNameSchema,
    transport: z.literal('stdio'),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    cwd: z.string().optional(),
    /** Plain environment variables (never secrets: those go in `secretEnv`). */
    env: z.record(z.string(), z.string()).default({}),
    /** Environment variable -> vault secret name, injected when the process is spawned. */
    secretEnv: z.record(z.string(), SecretRefSchema).default({}),
    timeout: DurationSchema.optional(),
  }),
  z.strictObject({
    name: UpstreamNameSchema,
    transport: z.literal('http'),
    url: z.url(),
    headers: z.record(z.string(), z.string()).default({}),
    /** Header -> vault secret, e.g. `{Authorization: {secret: tickets-token, prefix: "Bearer "}}`. */
    secretHeaders: z
      .record(z.string(), z.strictObject({ secret: SecretRefSchema, prefix: z.string().default('') }))
      .default({}),
    timeout: DurationSchema.optional(),
  }),
]);

export type UpstreamConfig = z.output<typeof UpstreamSchema>;

export const GatehouseConfigSchema = z
  .strictObject({
    dataDir: z.string().min(1),
    server: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(7400),
        /** The URL clients reach this server at; the token issuer and assertion audience derive from it. */
        publicUrl: z.url().optional(),
        /** Request and error logs (JSON lines on stdout); `silent` turns them off. */
        logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        bodyLimitBytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .default(64 * 1024),
      })
      .prefault({}),
    store: StoreSchema.default({ driver: 'sqlite' }),
    /** 32 bytes, base64 or base64url: encrypts signing keys at rest. Prefer GATEHOUSE_MASTER_KEY. */
    masterKey: z.string().min(1).optional(),
    tokens: z
      .strictObject({
        accessTokenTtl: DurationSchema.default(5 * 60_000),
        audience: z.string().min(1).default('gatehouse'),
        /** Longest lifetime (exp - iat) accepted on a client assertion. */
        clientAssertionMaxAge: DurationSchema.default(5 * 60_000),
        /** Tolerated clock difference with agents. */
        clockSkew: DurationSchema.default(30_000),
      })
      .prefault({}),
    audit: z
      .strictObject({
        checkpointEvery: z.number().int().min(1).default(1000),
        checkpointInterval: DurationSchema.default(60_000),
        maxBatch: z.number().int().min(1).max(50_000).default(1000),
      })
      .prefault({}),
    lifecycle: z
      .strictObject({
        /** How long an orphaned agent (its team has no active member) keeps running before it is suspended. */
        orphanGracePeriod: DurationSchema.default(7 * 24 * 3600_000),
        sweepInterval: DurationSchema.default(60_000),
      })
      .prefault({}),
    /** The real MCP servers Gatehouse fronts; their tools appear to agents as `<name>.<tool>`. */
    upstreams: z
      .array(UpstreamSchema)
      .default([])
      .refine(
        (list) => new Set(list.map((upstream) => upstream.name)).size === list.length,
        'upstream names must be unique',
      ),
    mcp: z
      .strictObject({
        /** How long a forwarded call may take before the agent gets a timeout error. */
        callTimeout: DurationSchema.default(30_000),
        /** Lifetime of a capability token; at most 60 s. */
        capabilityTtl: DurationSchema.default(30_000).refine(
          (ttl) => ttl >= 1000 && ttl <= 60_000,
          'between 1s and 60s',
        ),
        /** Largest JSON-RPC message accepted from an agent. */
        maxMessageBytes: z
          .number()
          .int()
          .min(1024)
          .max(64 * 1024 * 1024)
          .default(4 * 1024 * 1024),
        /** An MCP session with no request for this long is closed (its Gatehouse session stays on record). */
        sessionIdleTimeout: DurationSchema.default(30 * 60_000),
      })
      .prefault({}),
    policy: z
      .strictObject({
        /** A policy file or a directory of them (*.yaml, *.yml), published and activated at start. */
        path: z.string().min(1).optional(),
        /** Recompile and activate on change; a bundle that does not compile is rejected and the running one stays. */
        watch: z.boolean().default(true),
        /** How often a replica checks the store for a newly activated version (set by another replica or the CLI). */
        refreshInterval: DurationSchema.default(2_000),
      })
      .prefault({}),
  })
  .refine((config) => config.store.driver !== 'postgres' || config.masterKey !== undefined, {
    path: ['masterKey'],
    message:
      'a PostgreSQL store needs a master key (GATEHOUSE_MASTER_KEY) shared by every replica: a key generated per ' +
      'machine could not open the signing keys the others stored',
  });

export type GatehouseConfig = z.output<typeof GatehouseConfigSchema>;
export type GatehouseConfigInput = z.input<typeof GatehouseConfigSchema>;
