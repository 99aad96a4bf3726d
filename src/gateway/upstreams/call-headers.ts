import { AsyncLocalStorage } from 'node:async_hooks';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * Per-call HTTP headers. The SDK's Streamable HTTP transport only takes headers fixed at construction, so the
 * headers of one call travel in an AsyncLocalStorage store set around that call, and the transport's `fetch`
 * reads them. Node carries the store through the awaits between `client.callTool()` and the POST that sends it,
 * and to nothing started outside the call, so concurrent calls never see each other's headers.
 */
const callHeaders = new AsyncLocalStorage<Readonly<Record<string, string>>>();

/** Runs `fn` with `headers` added to every HTTP request it makes through a transport using `createCallHeaderFetch`. */
export function withCallHeaders<T>(
  headers: Record<string, string> | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (!headers || Object.keys(headers).length === 0) return fn();
  return callHeaders.run({ ...headers }, fn);
}

/**
 * A `fetch` for the SDK transport that adds the current call's headers. A header the request already has (the
 * configured and credential headers, the MCP session and protocol headers) is never replaced: a call may add to
 * what the connection sends, not override its authentication.
 */
export function createCallHeaderFetch(baseFetch: FetchLike = fetch): FetchLike {
  return (url, init) => {
    const extra = callHeaders.getStore();
    if (!extra) return baseFetch(url, init);
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(extra)) {
      if (!headers.has(name)) headers.set(name, value);
    }
    return baseFetch(url, { ...init, headers });
  };
}
