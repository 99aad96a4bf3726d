/** Replaces secret values in text meant for logs, statuses and error messages. */
export type Redact = (text: string) => string;

export const REDACTED = '[redacted]';

/** Values shorter than this are not redacted: they would blank out ordinary words and prove nothing. */
const MIN_SECRET_LENGTH = 4;

/**
 * A redactor for the credential values injected into one upstream connection. Defence in depth: the pool never
 * logs environments or headers, but an upstream may print its own environment or echo a header in an error.
 * The URL-encoded form of each value is redacted too.
 */
export function createRedactor(secrets: Iterable<string>): Redact {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    needles.add(secret);
    needles.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const needle of ordered) out = out.split(needle).join(REDACTED);
    return out;
  };
}
