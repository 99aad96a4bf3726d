import { createHash } from 'node:crypto';

/** The short fingerprint a key is shown by: the first 8 hex digits of its SHA-256. The key itself never is. */
export function fingerprintSecret(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 8);
}

/** A stable identifier for `parts` (joined unambiguously), e.g. `cand_1a2b3c4d5e6f`. */
export function stableId(prefix: string, parts: readonly string[], length = 12): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:${part}\u0000`, 'utf8');
  return `${prefix}_${hash.digest('hex').slice(0, length)}`;
}
