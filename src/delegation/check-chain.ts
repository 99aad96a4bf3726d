import { GatehouseError } from '../errors/index.js';
import type { Repositories } from '../store/index.js';
import type { Delegation } from './delegation-claims.js';

/** Why a link of a delegation chain no longer holds; also the audit reason. */
export type BrokenLink =
  | { reason: 'token_revoked'; jti: string }
  | { reason: 'user_inactive'; user: string }
  | { reason: 'agent_inactive'; agent: string; state: string }
  | { reason: 'agent_unknown'; agent: string };

/**
 * Checks, on every use, that each link a token rests on still holds: neither it nor any token it was exchanged
 * from is revoked, the user it speaks for is not deactivated, and every agent of the chain is active. Returns
 * the first broken link, or undefined.
 */
export async function findBrokenLink(
  store: Pick<Repositories, 'agents' | 'users' | 'delegations'>,
  delegation: Delegation,
  options: { skipAgent?: string } = {},
): Promise<BrokenLink | undefined> {
  const revoked = await store.delegations.revokedAmong([...delegation.parents, delegation.jti]);
  if (revoked.length > 0) return { reason: 'token_revoked', jti: revoked[0] as string };
  if (delegation.user) {
    const email = delegation.user.email;
    const user = delegation.user.id.startsWith('usr_')
      ? await store.users.findById(delegation.user.id)
      : email
        ? await store.users.findByEmail(email.toLowerCase())
        : undefined;
    // A user the registry does not know is vouched for by the IdP alone; one it knows must be active.
    if (user && !user.active) return { reason: 'user_inactive', user: delegation.user.id };
  }
  const agents = new Set(delegation.chain.filter((link) => link.kind === 'agent').map((link) => link.sub));
  agents.add(delegation.holder);
  if (options.skipAgent) agents.delete(options.skipAgent);
  for (const id of agents) {
    const agent = await store.agents.findById(id);
    if (!agent) return { reason: 'agent_unknown', agent: id };
    if (agent.state !== 'active') return { reason: 'agent_inactive', agent: id, state: agent.state };
  }
  return undefined;
}

/** `invalid_token` for a broken link, naming it (ids only) so the holder's operator can tell what happened. */
export function brokenLinkError(link: BrokenLink): GatehouseError {
  const message =
    link.reason === 'token_revoked'
      ? `the token rests on token \`${link.jti}\`, which was revoked`
      : link.reason === 'user_inactive'
        ? `the user \`${link.user}\` the token acts for is deactivated`
        : link.reason === 'agent_inactive'
          ? `agent \`${link.agent}\` of the delegation chain is ${link.state}`
          : `agent \`${link.agent}\` of the delegation chain does not exist`;
  return new GatehouseError('invalid_token', message, { details: { reason: link.reason } });
}

/** Throws `invalid_token` when a link the token rests on is broken. */
export async function assertChainHolds(
  store: Pick<Repositories, 'agents' | 'users' | 'delegations'>,
  delegation: Delegation,
  options: { skipAgent?: string } = {},
): Promise<void> {
  const broken = await findBrokenLink(store, delegation, options);
  if (broken) throw brokenLinkError(broken);
}
