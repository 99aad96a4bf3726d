import type { JWTPayload } from 'jose';
import { assertChainHolds } from '../delegation/check-chain.js';
import { type Delegation, readDelegation } from '../delegation/delegation-claims.js';
import { GatehouseError } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { createId } from '../lib/ids.js';
import type { Agent } from '../registry/types.js';
import type { Store } from '../store/index.js';
import type { ActClaim } from '../verify/index.js';
import type { SigningKeyring } from './signing-keyring.js';

/** RFC 9068: the `typ` header of a JWT access token, so it cannot be confused with any other JWT we sign. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** Longest bearer token accepted before any parsing. */
const MAX_ACCESS_TOKEN_LENGTH = 8192;

export interface IssueAccessTokenOptions {
  keyring: SigningKeyring;
  agent: Agent;
  issuer: string;
  audience: string;
  ttlMs: number;
  clock: Clock;
  /** Space-separated scopes already granted; omitted from the token when absent. */
  scope?: string;
  /** Delegation (RFC 8693): the token speaks for `subject` with `act` naming the actors; see docs/delegation.md. */
  delegation?: DelegatedTokenClaims;
}

/** The claims a token exchange adds; the agent being issued to stays `client_id`. */
export interface DelegatedTokenClaims {
  /** On whose behalf: a user id, or the agent at the root of an agent-only chain. */
  sub: string;
  act?: ActClaim;
  may_act?: { sub: string };
  task?: Record<string, unknown>;
  user?: { name?: string; email?: string; groups?: string[]; idp?: string };
  /** Token ids this one was exchanged from, root first. */
  parents?: string[];
  parent_sid?: string;
  /** Expiry cap, seconds since the epoch: never later than the parent's. */
  notAfter: number;
}

/** The token response of RFC 6749 section 5.1, plus the token's `jti` for the audit log. */
export interface IssuedAccessToken {
  access_token: string;
  token_type: 'Bearer';
  /** Seconds. */
  expires_in: number;
  jti: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  iat: number;
  exp: number;
  jti: string;
  client_id: string;
  scope?: string;
  act?: ActClaim;
  may_act?: { sub: string };
  task?: Record<string, unknown>;
  user?: { name?: string; email?: string; groups?: string[]; idp?: string };
  parents?: string[];
  parent_sid?: string;
}

export interface VerifyAccessTokenOptions {
  keyring: SigningKeyring;
  store: Store;
  token: string;
  issuer: string;
  audience: string;
  clock: Clock;
  clockSkewMs?: number;
}

/** Mints an RFC 9068 JWT access token for an authenticated agent, signed with the active gateway key. */
export async function issueAccessToken(options: IssueAccessTokenOptions): Promise<IssuedAccessToken> {
  const { agent } = options;
  const iat = Math.floor(options.clock.now() / 1000);
  const { delegation } = options;
  const expiresIn = Math.max(
    1,
    Math.min(Math.floor(options.ttlMs / 1000), (delegation?.notAfter ?? Number.POSITIVE_INFINITY) - iat),
  );
  const claims: AccessTokenClaims = {
    iss: options.issuer,
    sub: delegation?.sub ?? agent.id,
    aud: options.audience,
    iat,
    exp: iat + expiresIn,
    jti: createId('at'),
    client_id: agent.id,
    ...(options.scope ? { scope: options.scope } : {}),
  };
  if (delegation) {
    const { notAfter: _notAfter, sub: _sub, ...extra } = delegation;
    for (const [name, value] of Object.entries(extra)) if (value !== undefined) claims[name] = value;
  }
  const token = await options.keyring.signJwt(claims, { typ: ACCESS_TOKEN_TYP });
  return {
    access_token: token,
    token_type: 'Bearer',
    expires_in: expiresIn,
    jti: claims.jti,
    exp: claims.exp,
  };
}

/**
 * Checks a bearer access token: signature by a published gateway key, `typ`, issuer, audience and expiry, and
 * that its agent still exists and is active, so suspending an agent stops its live tokens at once. A delegated
 * token's whole chain is checked too: no revoked parent token, no deactivated user, no inactive agent.
 * Every failure is `invalid_token`.
 */
export async function verifyAccessToken(
  options: VerifyAccessTokenOptions,
): Promise<{ agent: Agent; claims: AccessTokenClaims; delegation: Delegation }> {
  if (options.token.length === 0 || options.token.length > MAX_ACCESS_TOKEN_LENGTH) {
    throw new GatehouseError('invalid_token', 'the access token is not valid');
  }
  const { payload } = await options.keyring.verifyJwt(options.token, {
    issuer: options.issuer,
    audience: options.audience,
    typ: ACCESS_TOKEN_TYP,
    requiredClaims: ['sub', 'exp', 'iat', 'jti'],
    now: options.clock.now(),
    ...(options.clockSkewMs === undefined ? {} : { clockSkewMs: options.clockSkewMs }),
  });
  const delegation = readDelegation(payload);
  const agent = await options.store.agents.findById(delegation.holder);
  if (!agent) throw new GatehouseError('invalid_token', 'the access token is not valid');
  if (agent.state !== 'active') {
    throw new GatehouseError('invalid_token', `the agent behind the access token is ${agent.state}`);
  }
  await assertChainHolds(options.store, delegation, { skipAgent: agent.id });
  return { agent, claims: payload as AccessTokenClaims, delegation };
}
