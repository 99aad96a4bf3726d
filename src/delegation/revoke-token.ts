import { decodeJwt } from 'jose';
import type { AuditRecorder } from '../audit/types.js';
import { GatehouseError } from '../errors/index.js';
import { ACCESS_TOKEN_TYP } from '../identity/access-tokens.js';
import type { SigningKeyring } from '../identity/signing-keyring.js';
import type { Clock } from '../lib/clock.js';
import type { Store } from '../store/index.js';
import { readDelegation } from './delegation-claims.js';

export interface RevokeTokenDeps {
  store: Store;
  keyring: SigningKeyring;
  audit: AuditRecorder;
  clock: Clock;
  issuer: string;
}

/**
 * Revokes a Gatehouse access token (RFC 7009) and with it every token exchanged from it: those carry its `jti`
 * in `parents`, and every use checks them. `byAgent` must hold the token, or appear in its chain (a delegator
 * revoking what it handed down); a token that does not verify is ignored, as RFC 7009 asks.
 */
export async function revokeToken(
  deps: RevokeTokenDeps,
  input: { token: string; byAgent: string; reason?: string },
): Promise<{ revoked: boolean; jti?: string }> {
  let audience: unknown;
  try {
    audience = decodeJwt(input.token).aud;
  } catch {
    return { revoked: false };
  }
  if (typeof audience !== 'string' && !Array.isArray(audience)) return { revoked: false };
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await deps.keyring.verifyJwt(input.token, {
      issuer: deps.issuer,
      audience: audience as string | string[],
      typ: ACCESS_TOKEN_TYP,
      requiredClaims: ['sub', 'exp', 'jti'],
      now: deps.clock.now(),
    }));
  } catch {
    return { revoked: false };
  }
  const delegation = readDelegation(payload);
  const mayRevoke =
    delegation.holder === input.byAgent ||
    delegation.actors.includes(input.byAgent) ||
    (delegation.subject.kind === 'agent' && delegation.subject.sub === input.byAgent);
  if (!mayRevoke) {
    throw new GatehouseError('forbidden', 'an agent may only revoke tokens it holds or handed down');
  }
  const revoked = await deps.store.delegations.revoke({
    jti: delegation.jti,
    revokedAt: deps.clock.now(),
    expiresAt: delegation.exp * 1000,
    revokedBy: `agent:${input.byAgent}`,
    reason: input.reason ?? null,
  });
  if (revoked) {
    await deps.audit.record({
      actor: `agent:${input.byAgent}`,
      action: 'token.revoked',
      target: delegation.holder,
      details: { jti: delegation.jti, chain: delegation.chain, subject: delegation.subject },
    });
  }
  return { revoked, jti: delegation.jti };
}
