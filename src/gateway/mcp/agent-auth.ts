import { authenticateAgentToken } from '../../delegation/index.js';
import type { AccessTokenClaims } from '../../identity/access-tokens.js';
import type { Agent } from '../../registry/index.js';
import type { Gatehouse } from '../../server/create-gatehouse.js';

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
  // A delegated token names the person (or the root agent) in `sub`: the agent presenting it is its `client_id`,
  // and every link of its chain must still hold (docs/delegation.md).
  return authenticateAgentToken(gatehouse, authorization);
}

/** The `WWW-Authenticate` challenge of the MCP authorization spec (RFC 6750 + RFC 9728 resource metadata). */
export function bearerChallenge(gatehouse: Gatehouse, error?: 'invalid_token'): string {
  const metadata = `${gatehouse.issuer}/.well-known/oauth-protected-resource`;
  return `Bearer realm="gatehouse", resource_metadata="${metadata}"${error ? `, error="${error}"` : ''}`;
}
