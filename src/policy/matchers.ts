/**
 * Structured argument matchers: the `args:` block of a policy rule. Pure functions, no I/O.
 *
 * Semantics (pinned by matchers.test.ts):
 * - All keywords of one constraint must hold (AND).
 * - A missing argument (`undefined`) satisfies no keyword except `present: false`. `present: true` needs a value
 *   that is neither `undefined` nor `null`; `present: false` holds for `undefined` and `null`.
 * - A value may be one item or an array of items (several recipients, several paths). The positive keywords
 *   (`*_in`, `one_of`, `path_under`) hold only when the array is non-empty and EVERY item qualifies. The
 *   negative keywords (`*_not_in`, `not_one_of`, `path_not_under`) are the exact complement for any value that
 *   is present: they hold when SOME item does not qualify (or the array is empty). So an allow rule with
 *   `email_domain_in: [corp.com]` allows only all-internal mail, and a deny rule with
 *   `email_domain_not_in: [corp.com]` fires as soon as one recipient is external. Items that are not strings
 *   (or, for `one_of`, not JSON scalars) never qualify, so they count as "outside".
 * - Anything that does not parse cleanly (an ambiguous address, an IP in octal, a relative path) never
 *   qualifies: allow rules fail closed, and `*_not_in` deny rules fire. A deny rule written with `*_in`
 *   (deny `cidr_in: [10.0.0.0/8]`) is therefore weaker than an allow list: prefer allow lists or `*_not_in`.
 * - Hosts are read the way the WHATWG URL parser reads them (IDNA, `0x7f.1` -> `127.0.0.1`); IPv4-mapped IPv6
 *   is its IPv4 address; paths are compared lexically after `posix.normalize`, without resolving symlinks or
 *   decoding `%2e%2e`.
 * - `min`/`max`/`exclusive_*` need one finite number; numeric strings and arrays do not count.
 * - `schema` is JSON Schema (ajv, strict mode). A schema that does not compile is reported as a zod issue by
 *   `ArgConstraintSchema` and thrown by `compileArgConstraint`.
 */
import { isIP } from 'node:net';
import { posix } from 'node:path';
import { domainToASCII } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { GatehouseError } from '../errors/index.js';

/** A compiled argument constraint: true when the argument value satisfies every keyword. */
export type ArgMatcher = (value: unknown) => boolean;

type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [IpAddress, number];
type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** One entry of a domain or host list: `*` (hosts only), `*.example.com` or `example.com`. */
type NamePattern = { kind: 'any' } | { kind: 'exact'; name: string } | { kind: 'suffix'; suffix: string };

interface NameSet {
  any: boolean;
  exact: ReadonlySet<string>;
  /** `.example.com` for `*.example.com`: subdomains only, never the apex. */
  suffixes: readonly string[];
}

interface PathRoot {
  root: string;
  /** `root + '/'`, precomputed so a call allocates nothing. */
  prefix: string;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(problem: string): Parsed<T> => ({ ok: false, problem });

// Whitespace and control characters make a value mean different things to different parsers.
function hasControlOrSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return true;
  }
  return false;
}

function tryUrl(input: string): URL | undefined {
  try {
    return new URL(input);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Email domains

const DOMAIN_RE = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;
// Characters that separate or comment addresses: a value containing them may hold more than one address.
const ADDRESS_FORBIDDEN = /[<>,;()[\]\\]/;
const QUOTED_LOCAL_PART = /^"[^"]*"$/;

function normaliseEmailDomain(raw: string): string | undefined {
  // domainToASCII would percent-decode, which mail servers do not.
  if (raw === '' || raw.includes('%')) return undefined;
  let domain = domainToASCII(raw);
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  return DOMAIN_RE.test(domain) ? domain : undefined;
}

/** The lower-cased ASCII domain of an address (`user@x.com` or `Name <user@x.com>`), if it is one. */
function emailDomainOf(raw: string): string | undefined {
  let address = raw.trim();
  const open = address.indexOf('<');
  if (open !== -1) {
    // An `@` in the display name makes the intended recipient ambiguous to sloppy parsers.
    if (!address.endsWith('>') || /[<>@]/.test(address.slice(0, open))) return undefined;
    address = address.slice(open + 1, -1);
  }
  if (hasControlOrSpace(address) || ADDRESS_FORBIDDEN.test(address)) return undefined;
  const at = address.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = address.slice(0, at);
  // Another `@` is only legal inside a quoted local part (`"a@b"@corp.com`).
  if (local.includes('@') && !QUOTED_LOCAL_PART.test(local)) return undefined;
  return normaliseEmailDomain(address.slice(at + 1));
}

function parseEmailDomainPattern(pattern: string): Parsed<NamePattern> {
  if (pattern === '') return bad('domain must not be empty');
  const wildcard = pattern.startsWith('*.');
  const base = wildcard ? pattern.slice(2) : pattern;
  if (base.includes('*')) {
    return bad(`\`${pattern}\` may use \`*\` only as a leading label, as in \`*.example.com\``);
  }
  if (base.includes('@')) return bad(`\`${pattern}\` is an address; list the domain only`);
  const name = normaliseEmailDomain(base);
  if (name === undefined) return bad(`\`${pattern}\` is not a valid domain`);
  return ok(wildcard ? { kind: 'suffix', suffix: `.${name}` } : { kind: 'exact', name });
}

// ---------------------------------------------------------------------------------------------------------------
// Hosts

const URL_WITH_AUTHORITY = /^[a-z][a-z0-9+.-]*:\/\//i;
// WHATWG skips extra slashes (`https:///evil.com` has host `evil.com`); RFC 3986 parsers see an empty host.
const EMPTY_AUTHORITY = /^[a-z][a-z0-9+.-]*:\/\/\//i;
// Schemes whose host the WHATWG parser normalises (IDNA, IPv4 forms, lower case); others get an opaque host.
const SPECIAL_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:']);
const NOT_IN_BARE_HOST = /[/?#@]/;

/** The normalised host of a bare host, `host:port` or URL, without a trailing dot. */
function hostOf(raw: string): string | undefined {
  // `\` is a path separator to WHATWG but not to every client, so `evil.com\@good.com` is refused outright.
  if (raw === '' || hasControlOrSpace(raw) || raw.includes('\\')) return undefined;
  let host: string;
  if (URL_WITH_AUTHORITY.test(raw)) {
    if (EMPTY_AUTHORITY.test(raw)) return undefined;
    const url = tryUrl(raw);
    if (url === undefined) return undefined;
    host = url.hostname;
    if (host !== '' && !SPECIAL_SCHEMES.has(url.protocol)) {
      const again = tryUrl(`http://${host}`);
      if (again === undefined) return undefined;
      host = again.hostname;
    }
  } else {
    if (NOT_IN_BARE_HOST.test(raw)) return undefined;
    const url = tryUrl(`http://${isIP(raw) === 6 ? `[${raw}]` : raw}`);
    if (url === undefined) return undefined;
    host = url.hostname;
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host === '' ? undefined : host;
}

function parseHostPattern(pattern: string): Parsed<NamePattern> {
  if (pattern === '') return bad('host must not be empty');
  if (pattern === '*') return ok({ kind: 'any' });
  const wildcard = pattern.startsWith('*.');
  const base = wildcard ? pattern.slice(2) : pattern;
  if (base.includes('*')) {
    return bad(`\`${pattern}\` may use \`*\` only as a leading label, as in \`*.example.com\``);
  }
  const ipv6 = isIP(base.startsWith('[') && base.endsWith(']') ? base.slice(1, -1) : base) === 6;
  if (!ipv6 && /[:/?#@\\]/.test(base)) {
    return bad(`\`${pattern}\` must be a bare host name or ip address, without scheme, user, port or path`);
  }
  const name = hostOf(base);
  if (name === undefined) return bad(`\`${pattern}\` is not a valid host`);
  if (!wildcard) return ok({ kind: 'exact', name });
  if (isIP(name) !== 0 || name.startsWith('['))
    return bad(`\`${pattern}\`: \`*.\` applies to domain names only`);
  return ok({ kind: 'suffix', suffix: `.${name}` });
}

// ---------------------------------------------------------------------------------------------------------------
// Domain and host lists

function buildNameSet(patterns: readonly NamePattern[]): NameSet {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  let any = false;
  for (const p of patterns) {
    if (p.kind === 'any') any = true;
    else if (p.kind === 'exact') exact.add(p.name);
    else suffixes.push(p.suffix);
  }
  return { any, exact, suffixes };
}

function nameSetHas(set: NameSet, name: string): boolean {
  if (set.any || set.exact.has(name)) return true;
  for (const suffix of set.suffixes) {
    if (name.length > suffix.length && name.endsWith(suffix)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// IP addresses

/**
 * A strictly written IPv4 or IPv6 address; IPv4-mapped IPv6 becomes its IPv4 address. `net.isIP` admits only
 * dotted-quad decimal IPv4, so `010.0.0.1`, `0x7f.1` and `2130706433`, which mean different hosts to different
 * parsers, are refused; it is also much faster than ipaddr.js's own validation.
 */
function parseIp(raw: string): IpAddress | undefined {
  const family = isIP(raw);
  try {
    if (family === 4) return ipaddr.IPv4.parse(raw);
    if (family !== 6) return undefined;
    const address = ipaddr.IPv6.parse(raw);
    return address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
  } catch {
    return undefined;
  }
}

function parseCidr(pattern: string): Parsed<Cidr> {
  const slash = pattern.lastIndexOf('/');
  const written = slash === -1 ? pattern : pattern.slice(0, slash);
  const address = parseIp(written);
  if (address === undefined) return bad(`\`${pattern}\` is not a valid cidr or ip address`);
  if (slash === -1) return ok([address, address.kind() === 'ipv4' ? 32 : 128]);
  const max = written.includes(':') ? 128 : 32;
  const bitsText = pattern.slice(slash + 1);
  const bits = Number(bitsText);
  if (!/^\d{1,3}$/.test(bitsText) || bits > max) return bad(`\`${pattern}\` has an invalid prefix length`);
  // `::ffff:10.0.0.0/104` was processed to IPv4 above, so its prefix moves into the IPv4 range too.
  if (address.kind() === 'ipv4' && max === 128) {
    if (bits < 96) {
      return bad(`\`${pattern}\` spans more than the ipv4-mapped range; write it without \`::ffff:\``);
    }
    return ok([address, bits - 96]);
  }
  return ok([address, bits]);
}

function cidrsHave(cidrs: readonly Cidr[], raw: string): boolean {
  const address = parseIp(raw);
  if (address === undefined) return false;
  for (const cidr of cidrs) {
    // ipaddr.js throws when the families differ.
    if (cidr[0].kind() === address.kind() && address.match(cidr)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Paths

/** Normalised absolute POSIX path without a trailing slash; `undefined` for anything suspicious. */
function normaliseAbsolutePath(raw: string): string | undefined {
  // `\` and NUL are separators or terminators to some consumers and not to posix.normalize.
  if (!raw.startsWith('/') || raw.includes('\0') || raw.includes('\\')) return undefined;
  const normal = posix.normalize(raw);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

function parsePathRoot(pattern: string): Parsed<PathRoot> {
  const root = normaliseAbsolutePath(pattern);
  if (root === undefined) {
    return bad(`\`${pattern}\` must be an absolute path (starting with \`/\`, without \`\\\` or nul)`);
  }
  return ok({ root, prefix: root === '/' ? '/' : `${root}/` });
}

function pathRootsHave(roots: readonly PathRoot[], raw: string): boolean {
  const path = normaliseAbsolutePath(raw);
  if (path === undefined) return false;
  for (const { root, prefix } of roots) {
    if (path === root || path.startsWith(prefix)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON Schema

function compileJsonSchema(schema: Record<string, unknown>): Parsed<ValidateFunction> {
  try {
    // One instance per schema: no `$id` clashes between rules and nothing kept alive across policy reloads.
    const validate = new Ajv({ allErrors: false, strict: true }).compile(schema);
    // An async validator returns a Promise, which is truthy: it would accept everything.
    if ('$async' in validate && validate.$async === true) return bad('`$async` schemas are not supported');
    return ok(validate);
  } catch (error) {
    return bad(`\`schema\` does not compile: ${error instanceof Error ? error.message : String(error)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Quantifiers

function isScalar(value: unknown): boolean {
  return (
    value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
  );
}

/** One item or a non-empty array of items, every one satisfying `test`. */
function every(value: unknown, test: (item: unknown) => boolean): boolean {
  if (!Array.isArray(value)) return test(value);
  if (value.length === 0) return false;
  for (const item of value) {
    if (!test(item)) return false;
  }
  return true;
}

function everyString(value: unknown, test: (item: string) => boolean): boolean {
  if (typeof value === 'string') return test(value);
  if (!Array.isArray(value) || value.length === 0) return false;
  for (const item of value) {
    if (typeof item !== 'string' || !test(item)) return false;
  }
  return true;
}

function emailDomainTest(set: NameSet): (item: string) => boolean {
  return (item) => {
    const domain = emailDomainOf(item);
    return domain !== undefined && nameSetHas(set, domain);
  };
}

function hostTest(set: NameSet): (item: string) => boolean {
  return (item) => {
    const host = hostOf(item);
    return host !== undefined && nameSetHas(set, host);
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Pattern lists for the ad-hoc helpers (CEL): compiled once per distinct list, invalid entries match nothing.

const LIST_CACHE_LIMIT = 256;

function createListCompiler<P, C>(
  parse: (pattern: string) => Parsed<P>,
  build: (patterns: P[]) => C,
): (patterns: readonly unknown[]) => C {
  const cache = new Map<string, C>();
  const compile = (patterns: readonly unknown[]): C => {
    const parsed: P[] = [];
    for (const p of patterns) {
      if (typeof p !== 'string') continue;
      const result = parse(p);
      if (result.ok) parsed.push(result.value);
    }
    return build(parsed);
  };
  return (patterns) => {
    // JSON.stringify keeps distinct lists distinct; lists with non-strings are rare enough to skip the cache.
    if (!patterns.every((p) => typeof p === 'string')) return compile(patterns);
    const key = JSON.stringify(patterns);
    let compiled = cache.get(key);
    if (compiled === undefined) {
      compiled = compile(patterns);
      if (cache.size >= LIST_CACHE_LIMIT) cache.clear();
      cache.set(key, compiled);
    }
    return compiled;
  };
}

type ItemTest = (item: string) => boolean;

const emailDomainListTest = createListCompiler<NamePattern, ItemTest>(parseEmailDomainPattern, (patterns) =>
  emailDomainTest(buildNameSet(patterns)),
);
const hostListTest = createListCompiler<NamePattern, ItemTest>(parseHostPattern, (patterns) =>
  hostTest(buildNameSet(patterns)),
);
const cidrListTest = createListCompiler<Cidr, ItemTest>(
  parseCidr,
  (cidrs) => (item) => cidrsHave(cidrs, item),
);
const pathRootListTest = createListCompiler<PathRoot, ItemTest>(
  parsePathRoot,
  (roots) => (item) => pathRootsHave(roots, item),
);

/**
 * True when the value (an address or a non-empty array of them) has every domain in `patterns`.
 * @example emailDomainIn(['a@corp.com', 'B <b@eu.corp.com>'], ['corp.com', '*.corp.com']) // true
 */
export function emailDomainIn(value: unknown, patterns: readonly string[]): boolean {
  if (!Array.isArray(patterns)) return false;
  return everyString(value, emailDomainListTest(patterns));
}

/**
 * True when the value (a host, `host:port` or URL, or a non-empty array of them) has every host in `patterns`.
 * @example hostIn('https://api.github.com/repos', ['*.github.com']) // true
 */
export function hostIn(value: unknown, patterns: readonly string[]): boolean {
  if (!Array.isArray(patterns)) return false;
  return everyString(value, hostListTest(patterns));
}

/**
 * True when the value (an IP address or a non-empty array of them) lies entirely within `cidrs`.
 * @example cidrIn('::ffff:10.1.2.3', ['10.0.0.0/8']) // true
 */
export function cidrIn(value: unknown, cidrs: readonly string[]): boolean {
  if (!Array.isArray(cidrs)) return false;
  return everyString(value, cidrListTest(cidrs));
}

/**
 * True when the value (an absolute path or a non-empty array of them) lies entirely under `roots`. Lexical only:
 * symlinks are not resolved and percent-encoding is not decoded.
 * @example pathUnder('/workspace/src/a.ts', ['/workspace']) // true
 */
export function pathUnder(value: unknown, roots: readonly string[]): boolean {
  if (!Array.isArray(roots)) return false;
  return everyString(value, pathRootListTest(roots));
}

// ---------------------------------------------------------------------------------------------------------------
// Schema

function checkedStringList(what: string, parse: (pattern: string) => Parsed<unknown>) {
  return z
    .array(z.string(), { error: `must be a list of ${what}` })
    .min(1, `must list at least one ${what}`)
    .superRefine((list, ctx) => {
      list.forEach((pattern, index) => {
        const result = parse(pattern);
        if (!result.ok)
          ctx.addIssue({ code: 'custom', message: result.problem, path: [index], input: pattern });
      });
    });
}

const jsonScalarList = z
  .array(z.union([z.string(), z.number(), z.boolean(), z.null()]), {
    error: 'must be a list of strings, numbers, booleans or null',
  })
  .min(1, 'must list at least one value');

/** One argument's constraint in a rule's `args:` block. Validates every list entry so bad policies fail at load. */
export const ArgConstraintSchema = z
  .strictObject({
    email_domain_in: checkedStringList('domain', parseEmailDomainPattern).optional(),
    email_domain_not_in: checkedStringList('domain', parseEmailDomainPattern).optional(),
    host_in: checkedStringList('host', parseHostPattern).optional(),
    host_not_in: checkedStringList('host', parseHostPattern).optional(),
    cidr_in: checkedStringList('cidr', parseCidr).optional(),
    cidr_not_in: checkedStringList('cidr', parseCidr).optional(),
    path_under: checkedStringList('path', parsePathRoot).optional(),
    path_not_under: checkedStringList('path', parsePathRoot).optional(),
    one_of: jsonScalarList.optional(),
    not_one_of: jsonScalarList.optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    exclusive_min: z.number().optional(),
    exclusive_max: z.number().optional(),
    schema: z
      .record(z.string(), z.unknown(), { error: 'must be a json schema object' })
      .superRefine((schema, ctx) => {
        const result = compileJsonSchema(schema);
        if (!result.ok) ctx.addIssue({ code: 'custom', message: result.problem, input: schema });
      })
      .optional(),
    present: z.boolean().optional(),
  })
  .refine((spec) => Object.values(spec).some((v) => v !== undefined), {
    message: 'an argument constraint needs at least one keyword',
  });

export type ArgConstraint = z.infer<typeof ArgConstraintSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Compilation

function parseAllOrThrow<T>(
  keyword: string,
  patterns: readonly string[],
  parse: (p: string) => Parsed<T>,
): T[] {
  return patterns.map((pattern) => {
    const result = parse(pattern);
    if (!result.ok) throw new GatehouseError('invalid_config', `\`${keyword}\`: ${result.problem}`);
    return result.value;
  });
}

/** Adds the positive keyword's check and, for the `not` keyword, its complement over present values. */
function addPair(checks: ArgMatcher[], positive: ArgMatcher, hasIn: boolean, hasNotIn: boolean): void {
  if (hasIn) checks.push(positive);
  if (hasNotIn) checks.push((value) => value !== undefined && !positive(value));
}

/**
 * Compiles a constraint once, at policy load, into a matcher that is cheap per call. Throws a `GatehouseError`
 * (`invalid_config`) for anything `ArgConstraintSchema` would reject, so it is safe on unvalidated input too.
 */
export function compileArgConstraint(spec: ArgConstraint): ArgMatcher {
  const checks: ArgMatcher[] = [];

  const emailKeywords = [
    ['email_domain_in', spec.email_domain_in],
    ['email_domain_not_in', spec.email_domain_not_in],
  ] as const;
  for (const [keyword, patterns] of emailKeywords) {
    if (patterns === undefined) continue;
    const set = buildNameSet(parseAllOrThrow(keyword, patterns, parseEmailDomainPattern));
    const test = emailDomainTest(set);
    const inSet: ArgMatcher = (value) => everyString(value, test);
    addPair(checks, inSet, keyword === 'email_domain_in', keyword === 'email_domain_not_in');
  }

  const hostKeywords = [
    ['host_in', spec.host_in],
    ['host_not_in', spec.host_not_in],
  ] as const;
  for (const [keyword, patterns] of hostKeywords) {
    if (patterns === undefined) continue;
    const set = buildNameSet(parseAllOrThrow(keyword, patterns, parseHostPattern));
    const test = hostTest(set);
    const inSet: ArgMatcher = (value) => everyString(value, test);
    addPair(checks, inSet, keyword === 'host_in', keyword === 'host_not_in');
  }

  const cidrKeywords = [
    ['cidr_in', spec.cidr_in],
    ['cidr_not_in', spec.cidr_not_in],
  ] as const;
  for (const [keyword, patterns] of cidrKeywords) {
    if (patterns === undefined) continue;
    const cidrs = parseAllOrThrow(keyword, patterns, parseCidr);
    const test = (item: string) => cidrsHave(cidrs, item);
    const inCidrs: ArgMatcher = (value) => everyString(value, test);
    addPair(checks, inCidrs, keyword === 'cidr_in', keyword === 'cidr_not_in');
  }

  const pathKeywords = [
    ['path_under', spec.path_under],
    ['path_not_under', spec.path_not_under],
  ] as const;
  for (const [keyword, patterns] of pathKeywords) {
    if (patterns === undefined) continue;
    const roots = parseAllOrThrow(keyword, patterns, parsePathRoot);
    const test = (item: string) => pathRootsHave(roots, item);
    const under: ArgMatcher = (value) => everyString(value, test);
    addPair(checks, under, keyword === 'path_under', keyword === 'path_not_under');
  }

  const oneOfKeywords = [
    ['one_of', spec.one_of],
    ['not_one_of', spec.not_one_of],
  ] as const;
  for (const [keyword, values] of oneOfKeywords) {
    if (values === undefined) continue;
    if (values.length === 0) {
      throw new GatehouseError('invalid_config', `\`${keyword}\` must list at least one value`);
    }
    // Set membership is SameValueZero: strict for scalars, so `1` and `"1"` stay distinct.
    const allowed = new Set<unknown>(values);
    const test = (item: unknown) => isScalar(item) && allowed.has(item);
    const member: ArgMatcher = (value) => every(value, test);
    addPair(checks, member, keyword === 'one_of', keyword === 'not_one_of');
  }

  const { min, max, exclusive_min: exclusiveMin, exclusive_max: exclusiveMax } = spec;
  if (min !== undefined || max !== undefined || exclusiveMin !== undefined || exclusiveMax !== undefined) {
    checks.push(
      (value) =>
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (min === undefined || value >= min) &&
        (max === undefined || value <= max) &&
        (exclusiveMin === undefined || value > exclusiveMin) &&
        (exclusiveMax === undefined || value < exclusiveMax),
    );
  }

  if (spec.schema !== undefined) {
    const result = compileJsonSchema(spec.schema);
    if (!result.ok) throw new GatehouseError('invalid_config', result.problem);
    const validate = result.value;
    checks.push((value) => value !== undefined && validate(value) === true);
  }

  if (spec.present !== undefined) {
    const wanted = spec.present;
    checks.push((value) => (value !== undefined && value !== null) === wanted);
  }

  // An empty constraint would match everything; refuse it rather than allow by accident.
  if (checks.length === 0) {
    throw new GatehouseError('invalid_config', 'an argument constraint needs at least one keyword');
  }
  const [only] = checks;
  if (checks.length === 1 && only !== undefined) return only;
  return (value) => {
    for (const check of checks) {
      if (!check(value)) return false;
    }
    return true;
  };
}
