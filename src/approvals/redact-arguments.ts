/** Keys whose values are secrets by their name: passwords, tokens, keys, credentials, authorization headers. */
const SECRET_NAME =
  /(passw(or)?d|passphrase|^pwd$|secret|token|api[-_]?key|private[-_]?key|access[-_]?key|(^|[-_.])key$|^auth$|authorization|credential|cookie|session[-_]?id|signature)/i;
// camelCase keys ending in `Key` (`signingKey`), not words that happen to end in "key" (`monkey`).
const CAMEL_KEY = /[a-z0-9]Key$/;

const isSecretKey = (key: string) => SECRET_NAME.test(key) || CAMEL_KEY.test(key);

export const REDACTED = '[redacted]';
const MAX_DEPTH = 20;

/**
 * The arguments as approvers see them: every value under a key that looks like a secret (`password`, `token`,
 * `apiKey`, `authorization`, …) is replaced by `[redacted]`, at any depth. The approval stays bound to the hash
 * of the real arguments.
 *
 * @example redactArguments({ to: 'a@b.c', apiKey: 'sk-1' }) // { to: 'a@b.c', apiKey: '[redacted]' }
 */
export function redactArguments(args: Record<string, unknown>): Record<string, unknown> {
  return redactValue(args, 0) as Record<string, unknown>;
}

function redactValue(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSecretKey(key) ? REDACTED : redactValue(item, depth + 1);
  }
  return out;
}
