/** Deepest nesting of objects and arrays a request body may have; deeper bodies are refused before any use. */
export const MAX_JSON_DEPTH = 64;

/**
 * True when `value` nests objects and arrays deeper than `limit` (a scalar has depth 0, `{}` depth 1).
 * Iterative, so a hostile body cannot exhaust the stack while it is being measured.
 */
export function exceedsJsonDepth(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const next = pending.pop() as { value: unknown; depth: number };
    if (next.value === null || typeof next.value !== 'object') continue;
    const depth = next.depth + 1;
    if (depth > limit) return true;
    const children = Array.isArray(next.value) ? next.value : Object.values(next.value);
    for (const child of children) {
      if (child !== null && typeof child === 'object') pending.push({ value: child, depth });
    }
  }
  return false;
}
