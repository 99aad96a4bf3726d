import { GatehouseError } from '../errors/index.js';
import type { Agent } from '../registry/types.js';
import type { Gatehouse } from '../server/create-gatehouse.js';
import type { Delegation } from './delegation-claims.js';
import { issueDelegatedToken } from './issue-delegated-token.js';

/** The header that carries, to an agent served as an MCP upstream, the token Gatehouse exchanged for it. */
export const DELEGATED_TOKEN_HEADER = 'gatehouse-delegated-token';

/**
 * Agent-to-agent calls: when the upstream of an allowed call is a registered agent (`identity.agentUpstreams`),
 * Gatehouse performs the token exchange itself — the caller's token as subject, the callee as actor — and sends
 * the result along, so the callee holds a token of its own, no wider than the caller's, with the chain extended
 * (user -> caller -> callee). Returns the headers to add; none for an ordinary upstream.
 */
export async function exchangeForAgentHop(
  gatehouse: Gatehouse,
  caller: { agent: Agent; sessionId: string; delegation?: Delegation | undefined },
  call: { upstream: string; tool: string },
): Promise<Record<string, string> | undefined> {
  const route = gatehouse.config.identity.agentUpstreams.find((entry) => entry.upstream === call.upstream);
  if (!route) return undefined;
  const callee =
    (await gatehouse.store.agents.findById(route.agent)) ??
    (await gatehouse.store.agents.findByName(route.agent));
  if (callee?.state !== 'active') {
    throw new GatehouseError(
      'upstream_unavailable',
      `the agent behind upstream \`${call.upstream}\` is not active`,
    );
  }
  const delegation = caller.delegation;
  if (!delegation) {
    throw new GatehouseError('delegation_forbidden', 'an agent-to-agent call needs the caller’s token');
  }
  const token = await issueDelegatedToken(
    {
      store: gatehouse.store,
      keyring: gatehouse.keyring,
      audit: gatehouse.audit,
      clock: gatehouse.clock,
      issuer: gatehouse.issuer,
      audience: gatehouse.config.tokens.audience,
      accessTokenTtlMs: gatehouse.config.tokens.accessTokenTtl,
      maxChainDepth: gatehouse.config.identity.maxChainDepth,
    },
    {
      actor: callee,
      parent: {
        subject: delegation.subject,
        user: delegation.userClaim,
        actors: delegation.actors,
        holder: delegation.holder,
        tools: delegation.tools,
        task: delegation.task,
        exp: delegation.exp,
        parents: [...delegation.parents, delegation.jti],
      },
      requested: {},
      audience: { kind: 'gatehouse' },
      hop: { sessionId: caller.sessionId, tool: call.tool },
      auditActor: `agent:${caller.agent.id}`,
      grantType: 'gatehouse:agent-hop',
    },
  );
  return { [DELEGATED_TOKEN_HEADER]: token.access_token };
}
