import type { CompiledBundle } from './compiled-bundle.js';
import type { Principal } from './types.js';

/**
 * Could any call of `tool` by this principal ever run? True when some allow, flag or approve rule applies to the
 * tool and the principal; its other conditions (arguments, history, CEL) are assumed satisfiable. Tools for
 * which this is false are hidden from the agent's tool list: it could never use them.
 */
export function mayEverRun(bundle: CompiledBundle, principal: Principal, tool: string): boolean {
  const rules = bundle.rulesFor(tool);
  for (const group of [rules.allow, rules.flag, rules.approve]) {
    for (const rule of group) {
      if (rule.matchesPrincipal === undefined || rule.matchesPrincipal(principal)) return true;
    }
  }
  return false;
}
