/**
 * Tools and prompts are exposed as `<upstream>.<name>`. Upstream names cannot contain `.` (see the config schema),
 * so the first dot separates them and the upstream's own name may contain dots.
 */
export function namespacedName(upstream: string, name: string): string {
  return `${upstream}.${name}`;
}

/** Splits `<upstream>.<name>`; undefined when there is no dot or either side is empty. */
export function splitNamespacedName(value: string): { upstream: string; name: string } | undefined {
  const dot = value.indexOf('.');
  if (dot <= 0 || dot === value.length - 1) return undefined;
  return { upstream: value.slice(0, dot), name: value.slice(dot + 1) };
}
