import ms from 'ms';
import { z } from 'zod';
import { DiscoveryConfigSchema } from '../discovery/discovery-config.js';

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

/** One LLM provider the gateway fronts at `/llm/<name>/v1/...` (docs/llm-gateway.md). */
const LlmProviderSchema = z.strictObject({
  name: UpstreamNameSchema,
  /** The wire format it speaks. */
  kind: z.enum(['openai', 'anthropic']),
  /** The API root, `/v1` included: `https://api.openai.com/v1`, `https://api.anthropic.com/v1`. */
  baseUrl: z.url(),
  /** The vault secret holding the provider key (bind it with `--upstream <name>`). */
  apiKeySecret: SecretRefSchema,
  /** Longest wait for the response headers, and for each next chunk of the body. */
  timeout: DurationSchema.default(60_000),
  /** Plain extra headers sent to the provider (never secrets), e.g. `OpenAI-Organization`. */
  headers: z.record(z.string(), z.string()).default({}),
});

/** Token budgets (input + output) in UTC calendar days and months. */
const TokenBudgetSchema = z.strictObject({
  daily: z.number().int().positive().optional(),
  monthly: z.number().int().positive().optional(),
});

// RFC 9110 token characters: what a header name may be made of.
const HeaderNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'a header name')
  .refine(
    (name) => !['host', 'connection', 'content-length', 'transfer-encoding'].includes(name.toLowerCase()),
    'this header cannot carry a credential',
  );

/** One credentialed egress route: `/egress/<name>/...` goes to `baseUrl` with a vault secret injected. */
const EgressRouteSchema = z.strictObject({
  name: UpstreamNameSchema,
  /** An http(s) URL without credentials, query or fragment; request paths are appended below its path. */
  baseUrl: z
    .url()
    .refine((value) => /^https?:\/\//i.test(value), 'must be an http:// or https:// URL')
    .refine((value) => {
      const url = new URL(value);
      return url.username === '' && url.password === '' && url.search === '' && url.hash === '';
    }, 'must not carry credentials, a query or a fragment'),
  credential: z
    .strictObject({
      secret: SecretRefSchema,
      /** The header the secret goes in (e.g. `Authorization`, `x-api-key`)... */
      header: HeaderNameSchema.optional(),
      /** ...or the query parameter (e.g. `key`). Exactly one of the two. */
      query: z.string().min(1).max(100).optional(),
      /** Put before the value, e.g. `Bearer `. */
      prefix: z
        .string()
        .regex(/^[\t\x20-\x7e]*$/, 'printable characters only')
        .default(''),
    })
    .refine((credential) => (credential.header === undefined) !== (credential.query === undefined), {
      message: 'name exactly one of `header` or `query`',
    }),
  /** How long the upstream may take to send its response head. */
  timeout: DurationSchema.optional(),
});

export type EgressRouteConfig = z.output<typeof EgressRouteSchema>;

/** An OpenID Connect provider whose users' tokens Gatehouse accepts as token-exchange subject tokens. */
const IdentityIssuerSchema = z.strictObject({
  /** The exact `iss` of its tokens; discovery is read from `<issuer>/.well-known/openid-configuration`. */
  issuer: z
    .url()
    .refine(
      (value) =>
        /^https:\/\//i.test(value) || /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(\/|$)/i.test(value),
      'must be an https:// URL (http:// only for localhost)',
    ),
  /** The `aud` its tokens carry for Gatehouse (usually the client id Gatehouse or the agents have there). */
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** Skips discovery and fetches the keys from here. */
  jwksUri: z.url().optional(),
  /** The claim that names the user: `email`, `preferred_username`, `sub`... */
  usernameClaim: z.string().min(1).default('email'),
  /** The claim holding the user's groups (a list of strings), visible to policies as `user.properties.groups`. */
  groupsClaim: z.string().min(1).default('groups'),
});

const IdentitySchema = z.strictObject({
  issuers: z
    .array(IdentityIssuerSchema)
    .default([])
    .refine(
      (list) => new Set(list.map((issuer) => issuer.issuer)).size === list.length,
      'issuers must be unique',
    ),
  /** Most agents one delegation chain may hold (user -> agent -> sub-agent ...). */
  maxChainDepth: z.number().int().min(1).max(16).default(4),
  /** How long fetched discovery documents and key sets are trusted before they are read again. */
  jwksCacheTtl: DurationSchema.default(10 * 60_000),
  /**
   * Registered agents served as MCP upstreams (`http` upstreams by name): on each call through one, Gatehouse
   * exchanges the caller's token for one issued to the callee, with the chain extended.
   */
  agentUpstreams: z
    .array(z.strictObject({ upstream: UpstreamNameSchema, agent: z.string().min(1).max(200) }))
    .default([]),
});

export type IdentityConfig = z.output<typeof IdentitySchema>;
export type IdentityIssuerConfig = z.output<typeof IdentityIssuerSchema>;

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
    /** Plain HTTP egress (docs/egress.md): the forward proxy and credentialed routes. */
    egress: z
      .strictObject({
        /** The HTTP_PROXY/HTTPS_PROXY-compatible forward proxy, on its own port. */
        proxy: z
          .strictObject({
            enabled: z.boolean().default(false),
            host: z.string().min(1).default('127.0.0.1'),
            port: z.number().int().min(0).max(65535).default(7401),
          })
          .prefault({}),
        /** Let egress reach private, loopback and unique-local addresses (never link-local or metadata). */
        allowPrivateAddresses: z.boolean().default(false),
        /** Hosts (`name`, `*.suffix`, or an ip) that may resolve to any address, metadata included. */
        allowPrivateHosts: z.array(z.string().min(1).max(253)).default([]),
        /** How long connecting to the destination may take. */
        connectTimeout: DurationSchema.default(10_000),
        /** A proxied exchange or tunnel with no traffic for this long is closed. */
        idleTimeout: DurationSchema.default(5 * 60_000),
        routes: z
          .array(EgressRouteSchema)
          .default([])
          .refine(
            (list) => new Set(list.map((route) => route.name)).size === list.length,
            'egress route names must be unique',
          ),
      })
      .prefault({}),
    /** The LLM gateway (docs/llm-gateway.md): providers, token budgets, what the audit keeps. */
    llm: z
      .strictObject({
        providers: z
          .array(LlmProviderSchema)
          .default([])
          .refine(
            (list) => new Set(list.map((provider) => provider.name)).size === list.length,
            'llm provider names must be unique',
          ),
        /** Per agent and per team (by name). */
        budgets: z
          .strictObject({
            agents: z.record(z.string(), TokenBudgetSchema).default({}),
            teams: z.record(z.string(), TokenBudgetSchema).default({}),
          })
          .prefault({}),
        /** Put prompts and completions in the audit log (off: only model, token counts, duration, outcome). */
        storeBodies: z.boolean().default(false),
        /** Largest request body an agent may send to a provider. */
        maxRequestBytes: z
          .number()
          .int()
          .min(1024)
          .max(64 * 1024 * 1024)
          .default(8 * 1024 * 1024),
      })
      .prefault({}),
    /** Human approval of calls whose decision is `approve` (docs/approvals.md). */
    approvals: z
      .strictObject({
        /** How long the agent's call waits for a decision before it fails with `approval_pending`. */
        waitTimeout: DurationSchema.default(60_000),
        /** How long a request stays open (and an approved call may be retried) before it counts as denied. */
        expiry: DurationSchema.default(3600_000).refine((value) => value >= 1000, 'at least 1s'),
        /** Receivers of signed JSON POSTs on new requests and resolutions; `secret` is a vault secret name. */
        webhooks: z.array(z.strictObject({ url: z.url(), secret: SecretRefSchema })).default([]),
      })
      .prefault({}),
    /** Users from OpenID Connect providers and delegation by token exchange (docs/delegation.md). */
    identity: IdentitySchema.prefault({}),
    /** Discovery of shadow agents (docs/discovery.md): schedule, provider endpoints, extra key patterns. */
    discovery: DiscoveryConfigSchema.prefault({}),
  })
  .refine((config) => config.store.driver !== 'postgres' || config.masterKey !== undefined, {
    path: ['masterKey'],
    message:
      'a PostgreSQL store needs a master key (GATEHOUSE_MASTER_KEY) shared by every replica: a key generated per ' +
      'machine could not open the signing keys the others stored',
  });

export type GatehouseConfig = z.output<typeof GatehouseConfigSchema>;
export type GatehouseConfigInput = z.input<typeof GatehouseConfigSchema>;
