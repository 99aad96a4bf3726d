import { GatehouseError } from '../errors/index.js';

/**
 * Tool scopes: the OAuth `scope` of a delegated token names the tools it may call. A value is a tool name
 * (`crm.get_order`) or a prefix ending in `*` (`crm.*`, `crm.get_*`, `*`). Only trailing wildcards exist, so
 * "does this scope cover that one" has an exact answer and narrowing can be checked, never guessed.
 */

const SCOPE_VALUE = /^[A-Za-z0-9_.:/-]{0,200}\*?$/;
const MAX_SCOPE_VALUES = 100;

/** Splits and checks a space-separated `scope`; `invalid_scope` for a value that is not a tool pattern. */
export function parseToolScope(scope: string): string[] {
  const values = [...new Set(scope.split(' ').filter((value) => value !== ''))];
  if (values.length === 0) throw new GatehouseError('invalid_scope', '`scope` names no tool');
  if (values.length > MAX_SCOPE_VALUES) {
    throw new GatehouseError('invalid_scope', `\`scope\` names more than ${MAX_SCOPE_VALUES} tool patterns`);
  }
  for (const value of values) {
    if (!SCOPE_VALUE.test(value) || value === '') {
      throw new GatehouseError(
        'invalid_scope',
        `scope value \`${value.slice(0, 100)}\` is not a tool name or a prefix ending in \`*\``,
      );
    }
  }
  return values;
}

/** True when every tool `inner` allows is allowed by `outer` (both tool names or trailing-`*` prefixes). */
export function patternCovers(outer: string, inner: string): boolean {
  if (outer.endsWith('*')) return inner.startsWith(outer.slice(0, -1));
  return !inner.endsWith('*') && inner === outer;
}

/** True when the tool scope allows calling `tool`; `undefined` scope means no restriction by the token. */
export function toolInScope(scope: readonly string[] | undefined, tool: string): boolean {
  return scope === undefined || scope.some((pattern) => patternCovers(pattern, tool));
}

/**
 * The tools a child token may call: the requested patterns when each is covered by the parent's, the parent's
 * when nothing is requested. Anything wider is refused with `invalid_scope`, never silently narrowed.
 */
export function narrowToolScope(
  parent: readonly string[] | undefined,
  requested: readonly string[] | undefined,
): string[] | undefined {
  if (requested === undefined) return parent === undefined ? undefined : [...parent];
  if (parent === undefined) return [...requested];
  for (const pattern of requested) {
    if (!parent.some((outer) => patternCovers(outer, pattern))) {
      throw new GatehouseError(
        'invalid_scope',
        `scope \`${pattern}\` is wider than the parent token allows (\`${parent.join(' ')}\`)`,
      );
    }
  }
  return [...requested];
}
