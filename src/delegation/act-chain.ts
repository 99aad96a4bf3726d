import { GatehouseError } from '../errors/index.js';
import type { ChainLink } from '../policy/types.js';
import type { ActClaim } from '../verify/index.js';

/** Far above any configured chain depth: bounds the work done on a token before its depth is even checked. */
const MAX_ACT_NESTING = 32;
const MAX_SUB_LENGTH = 256;

/**
 * Reads an RFC 8693 `act` claim into the actors it names, earliest first (the outermost `act` is the current
 * actor, each nested `act` the one before it). Anything that is not a well-formed chain is `invalid_token`.
 */
export function actorsOfAct(act: unknown): string[] {
  const actors: string[] = [];
  let link: unknown = act;
  while (link !== undefined) {
    if (typeof link !== 'object' || link === null || Array.isArray(link)) {
      throw new GatehouseError('invalid_token', 'the token `act` claim is not a JSON object');
    }
    const { sub, act: prior } = link as { sub?: unknown; act?: unknown };
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUB_LENGTH) {
      throw new GatehouseError('invalid_token', 'an `act` link of the token has no `sub`');
    }
    actors.unshift(sub);
    if (actors.length > MAX_ACT_NESTING) {
      throw new GatehouseError('invalid_token', 'the token `act` claim is nested too deep');
    }
    link = prior;
  }
  return actors;
}

/** Builds the nested `act` claim for actors given earliest first; undefined for none. */
export function actOfActors(actors: readonly string[]): ActClaim | undefined {
  let act: ActClaim | undefined;
  for (const sub of actors) act = act ? { sub, act } : { sub };
  return act;
}

/**
 * The delegation chain as the policy engine sees it: the subject (a user, or the agent at the root), then each
 * actor, the current one last. Empty for an agent acting for itself alone, as before delegation existed.
 */
export function chainOf(
  subject: { sub: string; kind: ChainLink['kind'] },
  actors: readonly string[],
): ChainLink[] {
  if (actors.length === 0 && subject.kind === 'agent') return [];
  return [subject, ...actors.map((sub) => ({ sub, kind: 'agent' as const }))];
}

/** How many agents the chain holds: what `identity.maxChainDepth` limits. */
export function agentDepth(chain: readonly ChainLink[]): number {
  return chain.filter((link) => link.kind === 'agent').length;
}
