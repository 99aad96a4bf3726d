import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { argsSha256 } from './args-sha256.js';
import { CapabilityVerificationError } from './capability-verification-error.js';
import { CAPABILITY_TYP, MAX_CAPABILITY_LENGTH, MAX_CAPABILITY_LIFETIME_SECONDS } from './constants.js';
import { createMemoryReplayCache, type ReplayCache } from './replay-cache.js';
import type { CapabilityClaims } from './types.js';

export interface CapabilityVerifierOptions {
  /** Gatehouse's issuer URL, e.g. `https://gatehouse.example.com`; the `iss` every capability must carry. */
  issuer: string;
  /** This upstream's audience: the `aud` Gatehouse mints its capabilities for. */
  audience: string | string[];
  /** Where Gatehouse publishes its keys; `<issuer>/.well-known/jwks.json` when neither this nor `jwks` is set. */
  jwksUrl?: string | URL;
  /** A fixed key set instead of fetching one (offline verification, tests). */
  jwks?: JSONWebKeySet;
  /** Tolerated clock difference with Gatehouse, in seconds. Default 5. */
  clockToleranceSeconds?: number;
  /** Where accepted `jti`s are remembered; an in-memory cache bounded to 100 000 entries by default. */
  replayCache?: ReplayCache;
  /**
   * After a fetch, how long a token naming an unknown key does not trigger another one, in milliseconds.
   * Default 5000. Lower means a rotated key is picked up sooner; higher means fewer fetches under bogus tokens.
   */
  jwksCooldownMs?: number;
  /** How long a fetched key set is used before it is fetched again, in milliseconds. Default 10 minutes. */
  jwksCacheMaxAgeMs?: number;
  /** How long a key-set fetch may take, in milliseconds. Default 5000. */
  jwksTimeoutMs?: number;
  /** The time in milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
}

/** The call the capability must have been minted for, as the tool server received it. */
export interface CapabilityCall {
  /** The tool name as this server knows it (MCP `params.name`). */
  tool: string;
  /** The arguments exactly as received (MCP `params.arguments`), before defaults or coercion are applied. */
  args: unknown;
  /** When set, the capability's `sid` must equal it. */
  sessionId?: string;
}

export interface CapabilityVerifier {
  /**
   * Checks signature, `typ`, issuer, audience, expiry, tool and argument hash, then records the `jti` so the
   * capability is accepted only once. Resolves to its claims; rejects with a CapabilityVerificationError.
   */
  verify(token: string | null | undefined, call: CapabilityCall): Promise<CapabilityClaims>;
}

const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'iat', 'exp', 'jti', 'tool', 'args_sha256'];

/**
 * Creates the verifier a tool server runs on every call Gatehouse forwards to it.
 *
 * @example
 * const verifier = createCapabilityVerifier({ issuer: 'https://gatehouse.example.com', audience: 'tickets' });
 * const claims = await verifier.verify(capabilityFromRequest({ headers }), { tool: 'create', args });
 */
export function createCapabilityVerifier(options: CapabilityVerifierOptions): CapabilityVerifier {
  if (typeof options.issuer !== 'string' || options.issuer.length === 0) {
    throw new TypeError('issuer must be a non-empty string');
  }
  const audiences = Array.isArray(options.audience) ? options.audience : [options.audience];
  if (audiences.length === 0 || audiences.some((aud) => typeof aud !== 'string' || aud.length === 0)) {
    throw new TypeError('audience must be a non-empty string or list of them');
  }
  if (options.jwks && options.jwksUrl) throw new TypeError('give either jwks or jwksUrl, not both');
  const tolerance = options.clockToleranceSeconds ?? 5;
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 60) {
    throw new TypeError('clockToleranceSeconds must be between 0 and 60');
  }
  const now = options.now ?? Date.now;
  const replayCache = options.replayCache ?? createMemoryReplayCache({ now });
  const keys = options.jwks
    ? createLocalJWKSet(options.jwks)
    : remoteKeys(new URL(options.jwksUrl ?? `${options.issuer.replace(/\/+$/, '')}/.well-known/jwks.json`), {
        cooldownDuration: options.jwksCooldownMs ?? 5000,
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? 10 * 60_000,
        timeoutDuration: options.jwksTimeoutMs ?? 5000,
      });
  const requireKid: JWTVerifyGetKey = (header, token) => {
    if (typeof header.kid !== 'string' || header.kid.length === 0) {
      throw new CapabilityVerificationError(
        'capability_invalid',
        'the capability names no signing key (`kid`)',
      );
    }
    return keys(header, token);
  };

  return {
    async verify(token, call) {
      if (typeof token !== 'string' || token.length === 0) {
        throw new CapabilityVerificationError('capability_missing', 'no capability came with the call');
      }
      if (token.length > MAX_CAPABILITY_LENGTH) {
        throw new CapabilityVerificationError('capability_invalid', 'the capability is too long');
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, requireKid, {
          algorithms: ['EdDSA'],
          typ: CAPABILITY_TYP,
          issuer: options.issuer,
          audience: audiences,
          requiredClaims: REQUIRED_CLAIMS,
          maxTokenAge: MAX_CAPABILITY_LIFETIME_SECONDS,
          clockTolerance: tolerance,
          currentDate: new Date(now()),
        }));
      } catch (error) {
        throw toVerificationError(error);
      }
      const claims = checkClaimShapes(payload);
      if (claims.tool !== call.tool) {
        throw new CapabilityVerificationError(
          'capability_mismatch',
          `the capability is for tool \`${claims.tool}\`, not \`${call.tool}\``,
        );
      }
      let hash: string;
      try {
        hash = argsSha256(call.args);
      } catch (cause) {
        throw new CapabilityVerificationError('capability_mismatch', 'the call arguments have no JSON form', {
          cause,
        });
      }
      if (hash !== claims.args_sha256) {
        throw new CapabilityVerificationError(
          'capability_mismatch',
          'the call arguments differ from those the capability was minted for',
        );
      }
      if (call.sessionId !== undefined && claims.sid !== call.sessionId) {
        throw new CapabilityVerificationError(
          'capability_mismatch',
          'the capability belongs to another session',
        );
      }
      // Remembered until it can no longer verify anywhere: expiry plus the tolerance.
      const forgetAt = (claims.exp + tolerance) * 1000;
      if ((await replayCache.has(claims.jti)) || (await replayCache.add(claims.jti, forgetAt)) === false) {
        throw new CapabilityVerificationError(
          'capability_replayed',
          `capability \`${claims.jti}\` was already used`,
        );
      }
      return claims;
    },
  };
}

/** A remote key set whose fetch failures say "cannot check" rather than "bad token". */
function remoteKeys(
  url: URL,
  options: { cooldownDuration: number; cacheMaxAge: number; timeoutDuration: number },
): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url, options);
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw error;
      throw new CapabilityVerificationError(
        'jwks_unavailable',
        `the issuer's keys could not be fetched from \`${url.href}\``,
        { cause: error },
      );
    }
  };
}

function toVerificationError(error: unknown): Error {
  if (error instanceof CapabilityVerificationError) return error;
  const { code, claim } = error as { code?: unknown; claim?: unknown };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new CapabilityVerificationError('capability_expired', 'the capability has expired', {
        cause: error,
      });
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return new CapabilityVerificationError(
        'capability_invalid',
        `the capability's \`${typeof claim === 'string' ? claim : 'claims'}\` check failed`,
        { cause: error },
      );
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new CapabilityVerificationError(
        'capability_invalid',
        'the capability signature does not verify',
        {
          cause: error,
        },
      );
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new CapabilityVerificationError(
        'capability_invalid',
        'the capability is not signed with `EdDSA`',
        {
          cause: error,
        },
      );
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new CapabilityVerificationError(
        'capability_invalid',
        'the capability is signed by a key the issuer does not publish',
        { cause: error },
      );
    default:
      if (typeof code === 'string' && code.startsWith('ERR_')) {
        return new CapabilityVerificationError('capability_invalid', 'the capability is not a valid JWT', {
          cause: error,
        });
      }
      return error instanceof Error ? error : new Error(String(error));
  }
}

/** jose checked presence; this checks types, and that the capability lives no longer than the cap. */
function checkClaimShapes(payload: JWTPayload): CapabilityClaims {
  const invalid = (what: string) =>
    new CapabilityVerificationError('capability_invalid', `the capability's ${what}`);
  const { sub, jti, tool, args_sha256: hash, sid, act, iat, exp } = payload as Record<string, unknown>;
  if (typeof sub !== 'string' || sub.length === 0) throw invalid('`sub` is not a string');
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256)
    throw invalid('`jti` is not a valid id');
  if (typeof tool !== 'string' || tool.length === 0) throw invalid('`tool` is not a string');
  if (typeof hash !== 'string' || hash.length === 0) throw invalid('`args_sha256` is not a string');
  if (sid !== undefined && typeof sid !== 'string') throw invalid('`sid` is not a string');
  if (act !== undefined && (typeof act !== 'object' || act === null || Array.isArray(act))) {
    throw invalid('`act` is not an object');
  }
  if ((exp as number) - (iat as number) > MAX_CAPABILITY_LIFETIME_SECONDS) {
    throw invalid(`lifetime exceeds ${MAX_CAPABILITY_LIFETIME_SECONDS} s`);
  }
  return payload as CapabilityClaims;
}
