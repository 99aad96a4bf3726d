import type { IncomingHttpHeaders } from 'node:http';
import { GatehouseError } from '../../errors/index.js';
import type { Gatehouse } from '../../server/create-gatehouse.js';
import { type AuthenticatedAgent, authenticateAgent } from '../mcp/agent-auth.js';

// A compact JWS: three base64url segments, the header a JSON object (`eyJ`). Provider keys look nothing like it.
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Authenticates an agent on the LLM gateway by its Gatehouse access token, sent as the SDKs send an API key:
 * `Authorization: Bearer` (OpenAI) or `x-api-key` (Anthropic). Anything else in those headers, such as a
 * provider key the agent should not hold, is refused (`provider_key_refused`) and goes nowhere; the message
 * never repeats it.
 */
export async function authenticateLlmAgent(
  gatehouse: Gatehouse,
  headers: IncomingHttpHeaders,
): Promise<AuthenticatedAgent> {
  const candidates: string[] = [];
  const authorization = headers.authorization;
  if (authorization !== undefined && authorization !== '') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) {
      throw new GatehouseError('invalid_token', 'the `Authorization` header must be `Bearer <access token>`');
    }
    candidates.push(match[1]);
  }
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') candidates.push(apiKey.trim());
  if (candidates.length === 0) {
    throw new GatehouseError(
      'invalid_token',
      'a Gatehouse access token is required, as `Authorization: Bearer` or `x-api-key`',
    );
  }
  if (candidates.some((candidate) => !JWT_SHAPE.test(candidate))) {
    throw new GatehouseError(
      'provider_key_refused',
      'this is not a Gatehouse access token: send the token from /oauth/token, never a provider API key ' +
        '(Gatehouse holds the provider key and adds it itself)',
    );
  }
  const [token, other] = candidates;
  if (other !== undefined && other !== token) {
    throw new GatehouseError('invalid_token', '`Authorization` and `x-api-key` carry different tokens');
  }
  return authenticateAgent(gatehouse, `Bearer ${token}`);
}
