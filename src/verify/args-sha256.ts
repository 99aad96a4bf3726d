import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

type Canonicalize = (input: unknown) => string | undefined;

// The package is CommonJS with ESM-style typings; depending on the loader, the function is the default export
// or its `default` property. (src/verify imports nothing else from Gatehouse, so this is not shared.)
const canonicalize: Canonicalize =
  typeof canonicalizeModule === 'function'
    ? (canonicalizeModule as Canonicalize)
    : (canonicalizeModule as unknown as { default: Canonicalize }).default;

/**
 * The `args_sha256` claim: base64url (no padding) SHA-256 of the RFC 8785 canonical JSON of the tool call's
 * arguments, so key order and whitespace never matter. Absent arguments (`undefined`) hash as `{}`, as MCP
 * treats a call without `arguments` like one with an empty object.
 *
 * @example argsSha256({ b: 1, a: 2 }) === argsSha256({ a: 2, b: 1 })
 */
export function argsSha256(args: unknown): string {
  const text = canonicalize(args === undefined ? {} : args);
  if (text === undefined) throw new TypeError('the arguments have no JSON form');
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}
