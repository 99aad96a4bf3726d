import ipaddr from 'ipaddr.js';
import ms from 'ms';
import { z } from 'zod';

const DurationSchema = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const parsed = ms(value as ms.StringValue);
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    ctx.addIssue({ code: 'custom', message: `\`${value}\` is not a duration such as 30s, 5m, 7d` });
    return z.NEVER;
  }
  return parsed;
});

const ProviderNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._:-]{0,62}$/, 'provider names are lowercase words (as in manifests)');

const RegexSourceSchema = z
  .string()
  .min(1)
  .max(500)
  .refine((source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression');

const AddressSchema = z.string().refine((value) => {
  if (value.includes('/')) {
    try {
      ipaddr.parseCIDR(value);
      return true;
    } catch {
      return false;
    }
  }
  return ipaddr.isValid(value);
}, 'must be an IP address or a CIDR such as 10.20.0.0/16');

const HostSchema = z
  .string()
  .regex(/^(\*[.-])?[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i, 'a host name, optionally `*.`');

/** Endpoints of one provider: extends the built-in list (same name) or adds a provider (e.g. an internal model). */
const ProviderEndpointSchema = z.strictObject({
  name: ProviderNameSchema,
  hosts: z.array(HostSchema).default([]),
  addresses: z.array(AddressSchema).default([]),
  ports: z.array(z.number().int().min(1).max(65535)).default([]),
});

/** A key discovery should also recognise: by the variable that holds it, by its format, or both. */
const KeyPatternSchema = z
  .strictObject({
    kind: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    provider: ProviderNameSchema,
    env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/)).default([]),
    pattern: RegexSourceSchema.optional(),
  })
  .refine((value) => value.env.length > 0 || value.pattern !== undefined, 'needs `env` or `pattern`');

/** A program that counts as an agent (or an MCP server) when its command line matches. */
const CommandPatternSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/),
  category: z.enum(['agent-framework', 'agent-cli', 'mcp-server']).default('agent-framework'),
  pattern: RegexSourceSchema,
});

/** The `discovery` section of gatehouse.yaml (docs/discovery.md). */
export const DiscoveryConfigSchema = z.strictObject({
  /** How often the server runs discovery on its own; 0 (the default) never. */
  interval: DurationSchema.default(0),
  /** Scheduled runs scan this host's processes. */
  host: z.boolean().default(true),
  /** Scheduled runs scan these directories. */
  paths: z.array(z.string().min(1)).default([]),
  /** Scan the audit log for LLM-gateway and egress traffic. */
  traffic: z.boolean().default(true),
  /** How many of the latest audit entries a traffic scan reads. */
  auditWindow: z.number().int().min(1).max(10_000_000).default(100_000),
  providers: z.array(ProviderEndpointSchema).default([]),
  /** Resolve provider host names (DNS); addresses and CIDRs work without. */
  resolveHosts: z.boolean().default(true),
  keyPatterns: z.array(KeyPatternSchema).default([]),
  commandPatterns: z.array(CommandPatternSchema).default([]),
  /** .gitignore-style patterns excluded under every scanned path, besides each tree's own .gitignore files. */
  exclude: z.array(z.string().min(1)).default([]),
  /** Files larger than this are skipped (and counted). */
  maxFileBytes: z
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(1024 * 1024),
  /** A scan stops after this many files (and says so). */
  maxFiles: z.number().int().min(1).default(200_000),
});

export type DiscoveryConfig = z.output<typeof DiscoveryConfigSchema>;

/** The defaults, for callers without a configuration (tests, `--offline`). */
export function defaultDiscoveryConfig(
  overrides: z.input<typeof DiscoveryConfigSchema> = {},
): DiscoveryConfig {
  return DiscoveryConfigSchema.parse(overrides);
}
