import type { Environment } from '@marcbachmann/cel-js';
import { cidrIn, emailDomainIn, hostIn, pathUnder } from './matchers.js';

type ListMatcher = (value: unknown, patterns: readonly string[]) => boolean;

// A CEL condition must not fail on an odd argument: a value that cannot be judged simply does not match.
function neverThrows(match: ListMatcher): (value: unknown, patterns: unknown) => boolean {
  return (value, patterns) => {
    try {
      return Array.isArray(patterns) && match(value, patterns);
    } catch {
      return false;
    }
  };
}

/**
 * Registers the argument matchers as CEL functions: `email_domain_in`, `host_in`, `cidr_in` and `path_under`,
 * each `(dyn, list): bool` with the same semantics as the `args:` keywords of the same name. For an array value
 * they hold only when EVERY item qualifies, so the negation, `!host_in(call.args.urls, [...])`, means "some item
 * is outside": exactly what a deny condition wants. Invalid list entries match nothing. A missing map key is
 * still a CEL error before the function runs, so guard optional arguments with `has(call.args.url) && ...`.
 * @example env.evaluate('host_in(call.args.url, ["*.github.com"])', { call }) // true for https://api.github.com
 */
export function registerMatcherFunctions(env: Environment): Environment {
  return env
    .registerFunction('email_domain_in(dyn, list): bool', neverThrows(emailDomainIn))
    .registerFunction('host_in(dyn, list): bool', neverThrows(hostIn))
    .registerFunction('cidr_in(dyn, list): bool', neverThrows(cidrIn))
    .registerFunction('path_under(dyn, list): bool', neverThrows(pathUnder));
}
