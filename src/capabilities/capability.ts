import { GatehouseError, isGatehouseError } from '../errors/index.js';
import type { SigningKeyring } from '../identity/signing-keyring.js';
import type { Clock } from '../lib/clock.js';
import { createId } from '../lib/ids.js';
import type { CapabilityRedemptionRepository } from '../store/index.js';
import {
  type ActClaim,
  argsSha256,
  CAPABILITY_TYP,
  type CapabilityClaims,
  MAX_CAPABILITY_LIFETIME_SECONDS,
} from '../verify/index.js';

export {
  type ActClaim,
  argsSha256,
  CAPABILITY_HEADER,
  CAPABILITY_META_KEY,
  CAPABILITY_TYP,
  type CapabilityClaims,
  MAX_CAPABILITY_LIFETIME_SECONDS,
} from '../verify/index.js';

export interface MintCapabilityDeps {
  keyring: Pick<SigningKeyring, 'signJwt'>;
  issuer: string;
  clock: Clock;
  /** Lifetime in milliseconds (`mcp.capabilityTtl`); capped at 60 s. */
  ttlMs: number;
}

export interface MintCapabilityInput {
  agentId: string;
  sessionId: string;
  /** The upstream the call goes to; its verifier expects this `aud`. */
  audience: string;
  /** The tool as the upstream names it (without the `<upstream>.` prefix agents see). */
  tool: string;
  /** The arguments exactly as they will be forwarded. */
  args: unknown;
  /** The RFC 8693 delegation chain, when the agent acts for another agent or a user. */
  act?: ActClaim;
  /** The user on whose behalf the session runs; carried as `on_behalf_of`. */
  userId?: string;
}

export interface MintedCapability {
  token: string;
  jti: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  argsSha256: string;
  claims: CapabilityClaims;
}

export interface RedeemCapabilityDeps {
  keyring: Pick<SigningKeyring, 'verifyJwt'>;
  issuer: string;
  clock: Clock;
  store: { capabilityRedemptions: CapabilityRedemptionRepository };
  /** Tolerated clock difference between replicas, in milliseconds. Default 0. */
  clockSkewMs?: number;
}

/** What the call about to be forwarded is; the capability must have been minted for exactly this. */
export interface ExpectedCapabilityCall {
  audience: string;
  tool: string;
  args: unknown;
  /** When set, the capability's `sid` must equal it. */
  sessionId?: string;
}

const REQUIRED_CLAIMS = ['sub', 'iat', 'exp', 'jti', 'tool', 'args_sha256'];

/** Mints the single-use capability for one allowed call: a JWT typed `gatehouse-cap+jwt`, living at most 60 s. */
export async function mintCapability(
  deps: MintCapabilityDeps,
  input: MintCapabilityInput,
): Promise<MintedCapability> {
  let hash: string;
  try {
    hash = argsSha256(input.args);
  } catch (cause) {
    throw new GatehouseError('invalid_request', 'the call arguments have no canonical JSON form', { cause });
  }
  const now = deps.clock.now();
  const iat = Math.floor(now / 1000);
  const ttlMs = Math.min(Math.max(deps.ttlMs, 1000), MAX_CAPABILITY_LIFETIME_SECONDS * 1000);
  // Rounding up keeps at least ttlMs of life even when `now` is late in its second; the cap still holds.
  const exp = Math.min(Math.ceil((now + ttlMs) / 1000), iat + MAX_CAPABILITY_LIFETIME_SECONDS);
  const claims: CapabilityClaims = {
    iss: deps.issuer,
    sub: input.agentId,
    aud: input.audience,
    iat,
    exp,
    jti: createId('cap'),
    sid: input.sessionId,
    tool: input.tool,
    args_sha256: hash,
    ...(input.act ? { act: input.act } : {}),
    ...(input.userId ? { on_behalf_of: input.userId } : {}),
  };
  const token = await deps.keyring.signJwt(claims, { typ: CAPABILITY_TYP });
  return { token, jti: claims.jti, exp, argsSha256: hash, claims };
}

/**
 * Checks that `token` is a capability Gatehouse minted for exactly this call (signature, `typ`, issuer,
 * audience, expiry, tool, argument hash, session) and redeems its `jti` in the store, which succeeds once
 * cluster-wide. Fails with `capability_invalid` naming the failed check, or `capability_replayed`.
 */
export async function redeemCapability(
  deps: RedeemCapabilityDeps,
  token: string,
  expected: ExpectedCapabilityCall,
): Promise<CapabilityClaims> {
  const clockSkewMs = deps.clockSkewMs ?? 0;
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await deps.keyring.verifyJwt(token, {
      audience: expected.audience,
      issuer: deps.issuer,
      typ: CAPABILITY_TYP,
      requiredClaims: REQUIRED_CLAIMS,
      clockSkewMs,
    }));
  } catch (error) {
    if (!isGatehouseError(error) || error.code !== 'invalid_token') throw error;
    throw new GatehouseError('capability_invalid', describeVerifyFailure(error), { cause: error });
  }
  const claims = checkClaims(payload);
  if (claims.tool !== expected.tool) {
    throw invalid(`the capability is for tool \`${claims.tool}\`, not \`${expected.tool}\``);
  }
  let hash: string | undefined;
  try {
    hash = argsSha256(expected.args);
  } catch {
    hash = undefined;
  }
  if (hash !== claims.args_sha256) {
    throw invalid('the call arguments differ from those the capability was minted for');
  }
  if (expected.sessionId !== undefined && claims.sid !== expected.sessionId) {
    throw invalid('the capability belongs to another session');
  }
  const redeemed = await deps.store.capabilityRedemptions.redeem(
    claims.jti,
    claims.sid ?? null,
    deps.clock.now(),
    // Kept until the capability cannot verify anywhere, so the record outlives every possible replay.
    claims.exp * 1000 + clockSkewMs,
  );
  if (!redeemed) {
    throw new GatehouseError('capability_replayed', `capability \`${claims.jti}\` was already redeemed`);
  }
  return claims;
}

/** Deletes the records of redeemed capabilities that can no longer verify; returns how many. */
export function sweepCapabilityRedemptions(deps: {
  store: { capabilityRedemptions: CapabilityRedemptionRepository };
  clock: Clock;
}): Promise<number> {
  return deps.store.capabilityRedemptions.deleteExpired(deps.clock.now());
}

/** Runs sweepCapabilityRedemptions every `intervalMs` (the timer does not keep the process alive). */
export function scheduleCapabilityRedemptionSweep(
  deps: Parameters<typeof sweepCapabilityRedemptions>[0],
  options: { intervalMs: number; onError?: (error: unknown) => void },
): { stop(): void } {
  const timer = setInterval(
    () => {
      sweepCapabilityRedemptions(deps).catch((error: unknown) => options.onError?.(error));
    },
    Math.max(1000, options.intervalMs),
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function invalid(message: string): GatehouseError {
  return new GatehouseError('capability_invalid', message);
}

/** Names the check that failed, from the jose error under the keyring's `invalid_token`. */
function describeVerifyFailure(error: GatehouseError): string {
  const { code, claim } = (error.cause ?? {}) as { code?: unknown; claim?: unknown };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'the capability has expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `the capability's \`${typeof claim === 'string' ? claim : 'claims'}\` check failed`;
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'the capability signature does not verify';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'the capability is not signed with `EdDSA`';
    default:
      return error.cause === undefined
        ? 'the capability names no known signing key'
        : 'the capability is not a valid JWT';
  }
}

function checkClaims(payload: Record<string, unknown>): CapabilityClaims {
  const { sub, jti, tool, args_sha256: hash, sid, iat, exp } = payload;
  if (typeof sub !== 'string' || sub.length === 0) throw invalid("the capability's `sub` is not a string");
  if (typeof jti !== 'string' || jti.length === 0) throw invalid("the capability's `jti` is not a string");
  if (typeof tool !== 'string') throw invalid("the capability's `tool` is not a string");
  if (typeof hash !== 'string') throw invalid("the capability's `args_sha256` is not a string");
  if (sid !== undefined && typeof sid !== 'string') throw invalid("the capability's `sid` is not a string");
  if (typeof iat !== 'number' || typeof exp !== 'number' || exp - iat > MAX_CAPABILITY_LIFETIME_SECONDS) {
    throw invalid(`the capability's lifetime exceeds ${MAX_CAPABILITY_LIFETIME_SECONDS} s`);
  }
  return payload as CapabilityClaims;
}
