import { decodeProtectedHeader, type ProtectedHeaderParameters } from 'jose';
import { GatehouseError } from '../../errors/index.js';

/** Asymmetric algorithms only: never `none`, never an HMAC that could be keyed with a public key. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** Header members that point at keys elsewhere; keys come from the configured issuer only, so they are refused. */
const KEY_POINTERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;
/** What a key id may look like: thumbprints, UUIDs and the usual IdP kids, and nothing a path or query needs. */
const KID = /^[A-Za-z0-9._~+=-]{1,128}$/;

/**
 * Reads and screens a JWS header before any key is looked up: an allowed asymmetric `alg`, a `kid` of safe
 * characters, and no `jku`/`x5u`/`jwk`/`x5c`. Failures are `invalid_token` with the reason in `details`.
 */
export function screenJwtHeader(
  token: string,
  algorithms: readonly string[] = ASYMMETRIC_ALGORITHMS,
): ProtectedHeaderParameters {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (cause) {
    throw refused('the token is not a compact JWS', 'malformed', cause);
  }
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) {
    throw refused(`the token \`alg\` must be one of ${algorithms.join(', ')}`, 'algorithm');
  }
  for (const pointer of KEY_POINTERS) {
    if (pointer in header) throw refused(`the token header may not carry \`${pointer}\``, 'key_pointer');
  }
  if (header.kid !== undefined && (typeof header.kid !== 'string' || !KID.test(header.kid))) {
    throw refused('the token `kid` is not a valid key id', 'kid');
  }
  return header;
}

function refused(message: string, reason: string, cause?: unknown): GatehouseError {
  return new GatehouseError('invalid_token', message, {
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  });
}
