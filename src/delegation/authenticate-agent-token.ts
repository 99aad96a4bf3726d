import { GatehouseError } from '../errors/index.js';
import { ACCESS_TOKEN_TYP, type AccessTokenClaims } from '../identity/access-tokens.js';
import { screenJwtHeader } from '../identity/oidc/index.js';
import type { Agent } from '../registry/types.js';
import type { Gatehouse } from '../server/create-gatehouse.js';
import { assertChainHolds } from './check-chain.js';
import { type Delegation, readDelegation } from './delegation-claims.js';
import { withFailureReason } from './token-failure.js';

const MAX_TOKEN_LENGTH = 8192;

export interface AgentTokenCaller {
  agent: Agent;
  claims: AccessTokenClaims;
  token: string;
  delegation: Delegation;
}

/**
 * Authenticates an agent's bearer token at a Gatehouse endpoint, delegated or not: signature, `typ`, issuer,
 * Gatehouse's own audience (a token addressed to an agent or an upstream is refused), expiry, and every link it
 * rests on (revoked parents, deactivated user, inactive agents: `invalid_token`). The agent presenting it is the
 * token's holder (`client_id`); if that agent is suspended or retired the refusal is `agent_inactive`.
 */
export async function authenticateAgentToken(
  gatehouse: Pick<Gatehouse, 'keyring' | 'store' | 'issuer' | 'config' | 'clock'>,
  authorization: string | undefined,
): Promise<AgentTokenCaller> {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization ?? '');
  const token = match?.[1];
  if (!token || token.length > MAX_TOKEN_LENGTH) {
    throw new GatehouseError('invalid_token', 'a bearer access token from /oauth/token is required', {
      details: { reason: 'missing' },
    });
  }
  screenJwtHeader(token, ['EdDSA']);
  const { payload } = await gatehouse.keyring
    .verifyJwt(token, {
      issuer: gatehouse.issuer,
      audience: gatehouse.config.tokens.audience,
      typ: ACCESS_TOKEN_TYP,
      requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      clockSkewMs: gatehouse.config.tokens.clockSkew,
      now: gatehouse.clock.now(),
    })
    .catch((error: unknown) => {
      throw withFailureReason(error);
    });
  const delegation = readDelegation(payload);
  const agent = await gatehouse.store.agents.findById(delegation.holder);
  if (!agent) throw new GatehouseError('invalid_token', 'the access token is not valid');
  if (agent.state !== 'active') {
    throw new GatehouseError('agent_inactive', `agent \`${agent.name}\` is ${agent.state}`);
  }
  await assertChainHolds(gatehouse.store, delegation, { skipAgent: agent.id });
  return { agent, claims: payload as AccessTokenClaims, token, delegation };
}

/** True when two tokens speak for the same subject through the same chain (a renewed token may rejoin a session). */
export function sameDelegation(a: Delegation | undefined, b: Delegation | undefined): boolean {
  const key = (delegation: Delegation | undefined) =>
    delegation
      ? JSON.stringify([delegation.chain, delegation.chain.length > 0 ? delegation.subject : null])
      : '[[],null]';
  return key(a) === key(b);
}
