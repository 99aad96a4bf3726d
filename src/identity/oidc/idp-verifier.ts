import {
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { IdentityIssuerConfig } from '../../config/config-schema.js';
import { GatehouseError } from '../../errors/index.js';
import type { Clock } from '../../lib/clock.js';
import { ASYMMETRIC_ALGORITHMS, screenJwtHeader } from './jwt-header.js';

/** A person as their company's OpenID Connect provider vouches for them in a verified token. */
export interface IdpIdentity {
  issuer: string;
  /** The IdP's `sub`. */
  subject: string;
  /** The value of the issuer's `usernameClaim`. */
  username: string;
  /** Only a verified address (`email_verified` not false). */
  email?: string;
  groups: string[];
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** RFC 8693 section 4.4 `may_act`, when the IdP put one in. */
  mayAct?: unknown;
}

export interface IdpVerifier {
  /** True when `iss` is a configured issuer. */
  trusts(issuer: string): boolean;
  /** Verifies a token of a configured issuer against its published keys (fetched, cached, refreshed on rotation). */
  verify(token: string): Promise<IdpIdentity>;
}

export interface IdpVerifierOptions {
  issuers: readonly IdentityIssuerConfig[];
  clock: Clock;
  clockSkewMs: number;
  /** How long discovery documents and key sets are trusted before they are read again. */
  cacheTtlMs: number;
  /** An unknown `kid` refetches the key set (rotation), but at most this often; 30 s by default. */
  jwksCooldownMs?: number;
  fetch?: typeof fetch;
}

const FETCH_TIMEOUT_MS = 5000;
const JWKS_COOLDOWN_MS = 30_000;
const MAX_GROUPS = 200;

interface IssuerState {
  config: IdentityIssuerConfig;
  keys?: { getKey: JWTVerifyGetKey; loadedAt: number };
  loading?: Promise<JWTVerifyGetKey>;
}

/**
 * Verifies users' tokens from configured OpenID Connect issuers. Keys come only from the issuer's own JWKS, found
 * by discovery (or `jwksUri`); `iss` selects the issuer exactly, and nothing in the token header can point
 * elsewhere.
 */
export function createIdpVerifier(options: IdpVerifierOptions): IdpVerifier {
  const doFetch = options.fetch ?? fetch;
  const states = new Map<string, IssuerState>(
    options.issuers.map((config) => [config.issuer, { config }] as const),
  );

  const discoverJwksUri = async (config: IdentityIssuerConfig): Promise<string> => {
    if (config.jwksUri) return config.jwksUri;
    const url = `${config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const response = await doFetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      document = (await response.json()) as typeof document;
    } catch (cause) {
      throw new GatehouseError(
        'idp_unavailable',
        `the discovery document of \`${config.issuer}\` is unavailable`,
        {
          cause,
        },
      );
    }
    // OpenID Connect Discovery 4.3: the document must name exactly the issuer it was fetched for.
    if (document.issuer !== config.issuer || typeof document.jwks_uri !== 'string') {
      throw new GatehouseError(
        'idp_unavailable',
        `the discovery document of \`${config.issuer}\` names another issuer or no \`jwks_uri\``,
      );
    }
    return document.jwks_uri;
  };

  const keysOf = async (state: IssuerState): Promise<JWTVerifyGetKey> => {
    const now = options.clock.now();
    if (state.keys && now - state.keys.loadedAt < options.cacheTtlMs && now >= state.keys.loadedAt) {
      return state.keys.getKey;
    }
    state.loading ??= (async () => {
      try {
        const jwksUri = await discoverJwksUri(state.config);
        const getKey = createRemoteJWKSet(new URL(jwksUri), {
          timeoutDuration: FETCH_TIMEOUT_MS,
          cooldownDuration: options.jwksCooldownMs ?? JWKS_COOLDOWN_MS,
          cacheMaxAge: options.cacheTtlMs,
          [customFetch]: doFetch,
        });
        state.keys = { getKey, loadedAt: options.clock.now() };
        return getKey;
      } finally {
        state.loading = undefined;
      }
    })();
    return state.loading;
  };

  return {
    trusts: (issuer) => states.has(issuer),
    async verify(token) {
      screenJwtHeader(token);
      let issuer: unknown;
      try {
        issuer = decodeJwt(token).iss;
      } catch (cause) {
        throw refused('the token is not a JWT', 'malformed', cause);
      }
      const state = typeof issuer === 'string' ? states.get(issuer) : undefined;
      if (!state) throw refused('the token issuer is not trusted', 'issuer');
      const getKey = await keysOf(state);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer: state.config.issuer,
          audience: state.config.audience,
          algorithms: [...ASYMMETRIC_ALGORITHMS],
          requiredClaims: ['exp', 'sub'],
          currentDate: new Date(options.clock.now()),
          clockTolerance: Math.floor(options.clockSkewMs / 1000),
        }));
      } catch (cause) {
        throw verifyFailure(state.config.issuer, cause);
      }
      return identityOf(state.config, payload);
    },
  };
}

function identityOf(config: IdentityIssuerConfig, payload: JWTPayload): IdpIdentity {
  const username = payload[config.usernameClaim];
  if (typeof username !== 'string' || username === '' || username.length > 256) {
    throw refused(`the token has no \`${config.usernameClaim}\` claim naming the user`, 'username');
  }
  const rawGroups = payload[config.groupsClaim];
  const groups = Array.isArray(rawGroups)
    ? rawGroups.filter((group): group is string => typeof group === 'string').slice(0, MAX_GROUPS)
    : [];
  const email =
    typeof payload.email === 'string' && payload.email_verified !== false ? payload.email : undefined;
  return {
    issuer: config.issuer,
    subject: payload.sub as string,
    username,
    ...(email ? { email } : {}),
    groups,
    exp: payload.exp as number,
    ...(payload.may_act === undefined ? {} : { mayAct: payload.may_act }),
  };
}

function verifyFailure(issuer: string, cause: unknown): GatehouseError {
  if (cause instanceof GatehouseError) return cause;
  const code = (cause as { code?: unknown }).code;
  const claim = (cause as { claim?: unknown }).claim;
  // fetch itself failing (refused connection, DNS): the IdP is unreachable, the token may be fine.
  if (cause instanceof TypeError) {
    return new GatehouseError('idp_unavailable', `the keys of \`${issuer}\` are unavailable`, { cause });
  }
  switch (code) {
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JOSE_GENERIC':
      return new GatehouseError('idp_unavailable', `the keys of \`${issuer}\` are unavailable`, { cause });
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return refused('no key of the issuer matches the token `kid`', 'kid', cause);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return refused('the token signature does not verify', 'signature', cause);
    case 'ERR_JWT_EXPIRED':
      return refused('the token has expired', 'expired', cause);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return refused(
        claim === 'nbf' || claim === 'iat'
          ? 'the token is not yet valid'
          : `the token \`${String(claim ?? 'claims')}\` claim is not valid`,
        typeof claim === 'string' ? claim : 'claims',
        cause,
      );
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return refused('the token `alg` is not allowed', 'algorithm', cause);
    default:
      return refused('the token is not valid', 'malformed', cause);
  }
}

function refused(message: string, reason: string, cause?: unknown): GatehouseError {
  return new GatehouseError('invalid_token', message, {
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  });
}

const shared = new WeakMap<object, IdpVerifier>();

/**
 * The one verifier of a process for a given `identity` configuration, so discovery and key sets are fetched once
 * and cached across requests.
 */
export function sharedIdpVerifier(
  identity: { issuers: readonly IdentityIssuerConfig[]; jwksCacheTtl: number },
  clock: Clock,
  clockSkewMs: number,
): IdpVerifier {
  let verifier = shared.get(identity);
  if (!verifier) {
    verifier = createIdpVerifier({
      issuers: identity.issuers,
      clock,
      clockSkewMs,
      cacheTtlMs: identity.jwksCacheTtl,
    });
    shared.set(identity, verifier);
  }
  return verifier;
}
