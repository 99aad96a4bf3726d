import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, type JWK, type JWTPayload, jwtVerify } from 'jose';
import { GatehouseError } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import type { Agent, AgentKey, AgentKeyAlg } from '../registry/types.js';
import type { Store } from '../store/index.js';

export interface VerifyClientAssertionOptions {
  store: Store;
  clock: Clock;
  /** The compact JWT from the `client_assertion` parameter. */
  assertion: string;
  /** Values `aud` may hold: the token endpoint URL and the issuer. */
  expectedAudiences: string[];
  /** Longest accepted lifetime, `exp - iat` (or `exp - now` without `iat`). */
  maxAgeMs: number;
  clockSkewMs: number;
  /** The `client_id` parameter, when the client sent one: it must name the same agent. */
  clientId?: string | undefined;
}

/** Longest assertion accepted; a real one is well under 1 KiB. */
export const MAX_CLIENT_ASSERTION_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;
const ASSERTION_ALGORITHMS: readonly AgentKeyAlg[] = ['EdDSA', 'ES256'];

/** One message for every failure before the signature is proven, so a caller cannot probe which agents exist. */
const NOT_VERIFIED = 'the client assertion could not be verified';

/**
 * Authenticates an agent by its private_key_jwt client assertion (RFC 7523, OpenID Connect Core 9): the JWT must
 * be signed by one of the agent's registered keys, name the agent as `iss` and `sub`, be addressed to us, be
 * short-lived, and carry a `jti` never seen before. Returns the authenticated, active agent.
 */
export async function verifyClientAssertion(options: VerifyClientAssertionOptions): Promise<Agent> {
  const { store, clock, assertion } = options;
  if (assertion.length > MAX_CLIENT_ASSERTION_LENGTH) {
    throw new GatehouseError(
      'invalid_client_assertion',
      `the \`client_assertion\` exceeds ${MAX_CLIENT_ASSERTION_LENGTH} characters`,
    );
  }
  const { kid, agentId } = readUnverified(assertion);
  if (options.clientId !== undefined && options.clientId !== agentId) {
    throw new GatehouseError(
      'invalid_client_assertion',
      'the `client_id` does not match the assertion subject',
    );
  }

  const agent = await store.agents.findById(agentId);
  const keys = agent ? await store.agentKeys.listByAgent(agent.id) : [];
  const candidates = kid === undefined ? keys : keys.filter((key) => key.kid === kid);
  if (!agent || candidates.length === 0) {
    throw rejected(NOT_VERIFIED, 'unknown agent, or no key of the agent matches');
  }

  const now = clock.now();
  const payload = await verifyWithAny(assertion, candidates, {
    agentId,
    audiences: options.expectedAudiences,
    now,
    clockSkewMs: options.clockSkewMs,
  });

  // From here the signature is proven: specific messages help the agent's operator and tell an attacker nothing.
  const exp = payload.exp as number;
  const lifetimeMs = exp * 1000 - (typeof payload.iat === 'number' ? payload.iat * 1000 : now);
  if (lifetimeMs > options.maxAgeMs) {
    throw new GatehouseError(
      'invalid_client_assertion',
      `the client assertion lives longer than the allowed ${Math.floor(options.maxAgeMs / 1000)} s (\`exp\` - \`iat\`)`,
    );
  }
  if (typeof payload.iat === 'number' && payload.iat * 1000 > now + options.clockSkewMs) {
    throw new GatehouseError('invalid_client_assertion', 'the client assertion `iat` is in the future');
  }
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    throw new GatehouseError(
      'invalid_client_assertion',
      `the client assertion needs a \`jti\` of 1 to ${MAX_JTI_LENGTH} characters`,
    );
  }
  if (agent.state !== 'active') {
    throw new GatehouseError('agent_inactive', `agent \`${agent.id}\` is ${agent.state}`);
  }
  // Kept until the assertion could no longer pass the exp check, skew included; the primary key makes it
  // single-use across every replica.
  if (!(await store.usedAssertions.record(agent.id, jti, exp * 1000 + options.clockSkewMs))) {
    throw new GatehouseError('assertion_replayed', 'the client assertion `jti` was already used');
  }
  return agent;
}

/**
 * The agent id an assertion claims (its `sub`), read without verification: for audit records of rejections
 * only, never for decisions.
 */
export function readClaimedAgentId(assertion: string): string | undefined {
  if (assertion.length > MAX_CLIENT_ASSERTION_LENGTH) return undefined;
  try {
    const sub = decodeJwt(assertion).sub;
    return typeof sub === 'string' && sub.length <= 128 ? sub : undefined;
  } catch {
    return undefined;
  }
}

function readUnverified(assertion: string): { kid: string | undefined; agentId: string } {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch (cause) {
    throw rejected('the `client_assertion` is not a JWT', 'malformed', cause);
  }
  if (typeof header.alg !== 'string' || !(ASSERTION_ALGORITHMS as readonly string[]).includes(header.alg)) {
    throw rejected(
      `the client assertion \`alg\` must be one of ${ASSERTION_ALGORITHMS.join(', ')}`,
      'algorithm',
    );
  }
  if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid.length > 256)) {
    throw rejected('the client assertion `kid` is not valid', 'kid');
  }
  const { iss, sub } = claims;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) {
    throw rejected('the client assertion needs `sub` set to the agent id', 'subject');
  }
  if (iss !== sub) throw rejected('the client assertion `iss` must equal its `sub`', 'issuer');
  return { kid: header.kid, agentId: sub };
}

async function verifyWithAny(
  assertion: string,
  keys: AgentKey[],
  expected: { agentId: string; audiences: string[]; now: number; clockSkewMs: number },
): Promise<JWTPayload> {
  let lastError: unknown;
  for (const key of keys) {
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: key.publicJwk as JWK & { kty: string }, format: 'jwk' });
    } catch (cause) {
      lastError = cause;
      continue;
    }
    try {
      const { payload } = await jwtVerify(assertion, publicKey, {
        // The stored key fixes the algorithm: no `none`, no HMAC keyed with public bytes, no alg/key swap.
        algorithms: [key.alg],
        issuer: expected.agentId,
        subject: expected.agentId,
        audience: expected.audiences,
        requiredClaims: ['exp'],
        currentDate: new Date(expected.now),
        clockTolerance: Math.floor(expected.clockSkewMs / 1000),
      });
      return payload;
    } catch (cause) {
      lastError = cause;
      // Claim failures come only after the signature check passed: report those; try the next key otherwise.
      if (isClaimFailure(cause)) throw claimFailure(cause);
    }
  }
  throw rejected(NOT_VERIFIED, errorMessage(lastError), lastError);
}

function isClaimFailure(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'ERR_JWT_EXPIRED' || code === 'ERR_JWT_CLAIM_VALIDATION_FAILED';
}

function claimFailure(error: unknown): GatehouseError {
  const { code, claim } = error as { code?: string; claim?: string };
  if (code === 'ERR_JWT_EXPIRED') {
    return new GatehouseError('invalid_client_assertion', 'the client assertion has expired', {
      cause: error,
    });
  }
  const message =
    claim === 'aud'
      ? 'the client assertion `aud` must name this token endpoint or issuer'
      : claim === 'exp'
        ? 'the client assertion needs an `exp`'
        : `the client assertion \`${claim ?? 'claims'}\` claim is not valid`;
  return new GatehouseError('invalid_client_assertion', message, { cause: error });
}

/**
 * A rejection whose internal reason travels as the (never rendered) cause, so the audit log can say more than
 * the client is told.
 */
function rejected(message: string, reason: string, cause?: unknown): GatehouseError {
  return new GatehouseError('invalid_client_assertion', message, {
    cause: new Error(reason, cause === undefined ? undefined : { cause }),
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : 'no key verified the signature';
}
