/** RFC 9110 section 7.6.1 hop-by-hop headers, plus the proxy's own and the de-facto `Proxy-Connection`. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The end-to-end headers of a message, as a flat `[name, value, ...]` list (Node's `rawHeaders` form, which
 * `http.request` and `writeHead` accept): hop-by-hop headers, those the `Connection` header names, and `drop`
 * (lower-case names) are removed. Case and order are kept.
 */
export function forwardableHeaders(
  rawHeaders: readonly string[],
  drop: ReadonlySet<string> = new Set(),
): string[] {
  const named = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() !== 'connection') continue;
    for (const token of (rawHeaders[i + 1] ?? '').split(',')) named.add(token.trim().toLowerCase());
  }
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower) || drop.has(lower)) continue;
    out.push(name, rawHeaders[i + 1] ?? '');
  }
  return out;
}
