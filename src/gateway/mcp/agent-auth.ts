import { GatehouseError } from '../../errors/index.js';
import { ACCESS_TOKEN_TYP, type AccessTokenClaims } from '../../identity/access-tokens.js';
import type { Agent } from '../../registry/index.js';
import type { Gatehouse } from '../../server/create-gatehouse.js';

const MAX_TOKEN_LENGTH = 8192;

export interface AuthenticatedAgent {
  agent: Agent;
  claims: AccessTokenClaims;
  token: string;
}

/**
 * Checks an agent's bearer access token for the MCP endpoint. A token that is missing, malformed, expired, for
 * another audience or not ours is `invalid_token` (401); a valid token whose agent is suspended or retired is
 * `agent_inactive`, so the refusal can say why (403).
 */
export async function authenticateAgent(
  gatehouse: Gatehouse,
  authorization: string | undefined,
): Promise<AuthenticatedAgent> {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization ?? '');
  const token = match?.[1];
  if (!token || token.length > MAX_TOKEN_LENGTH) {
    throw new GatehouseError('invalid_token', 'a bearer access token from /oauth/token is required');
  }
  const { payload } = await gatehouse.keyring.verifyJwt(token, {
    issuer: gatehouse.issuer,
    audience: gatehouse.config.tokens.audience,
    typ: ACCESS_TOKEN_TYP,
    requiredClaims: ['sub', 'exp', 'iat', 'jti'],
    clockSkewMs: gatehouse.config.tokens.clockSkew,
    now: gatehouse.clock.now(),
  });
  const agent = await gatehouse.store.agents.findById(payload.sub as string);
  if (!agent) throw new GatehouseError('invalid_token', 'the access token is not valid');
  if (agent.state !== 'active') {
    throw new GatehouseError('agent_inactive', `agent \`${agent.name}\` is ${agent.state}`);
  }
  return { agent, claims: payload as AccessTokenClaims, token };
}

/** The `WWW-Authenticate` challenge of the MCP authorization spec (RFC 6750 + RFC 9728 resource metadata). */
export function bearerChallenge(gatehouse: Gatehouse, error?: 'invalid_token'): string {
  const metadata = `${gatehouse.issuer}/.well-known/oauth-protected-resource`;
  return `Bearer realm="gatehouse", resource_metadata="${metadata}"${error ? `, error="${error}"` : ''}`;
}
