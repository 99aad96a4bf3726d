import picomatch from 'picomatch';

/** Matches names (tools, labels) against a list of exact names and globs like `github.*` or `*.delete_*`. */
export type NameMatcher = (name: string) => boolean;

export function compileNameMatcher(patterns: readonly string[]): NameMatcher {
  const exact = new Set<string>();
  const globs: RegExp[] = [];
  for (const pattern of patterns) {
    if (picomatch.scan(pattern).isGlob) globs.push(picomatch.makeRe(pattern, { dot: true }));
    else exact.add(pattern);
  }
  if (globs.length === 0) return (name) => exact.has(name);
  return (name) => exact.has(name) || globs.some((glob) => glob.test(name));
}

/** True when the pattern is a glob rather than one exact name. */
export function isGlob(pattern: string): boolean {
  return picomatch.scan(pattern).isGlob;
}
