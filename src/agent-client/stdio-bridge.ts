import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { TokenSource } from './token-source.js';

/**
 * The stdio mode of the gateway: a local MCP server on stdin/stdout that relays every JSON-RPC message to a
 * Gatehouse server's `/mcp` and back, adding the agent's bearer token. It holds only the agent's own key; all
 * policy, credentials and audit stay on the server. Resolves when either side closes.
 */
export async function bridgeStdioToGateway(options: {
  server: string;
  tokens: TokenSource;
  log: (line: string) => void;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
}): Promise<void> {
  const { tokens, log } = options;
  const local = new StdioServerTransport(
    options.stdin as import('node:stream').Readable | undefined,
    options.stdout as import('node:stream').Writable | undefined,
  );
  const remote = new StreamableHTTPClientTransport(new URL(`${options.server.replace(/\/+$/, '')}/mcp`), {
    fetch: async (url, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${await tokens.token()}`);
      return fetch(url, { ...init, headers });
    },
  });
  await tokens.token();
  return new Promise<void>((resolve) => {
    let closed = false;
    const close = (why: string) => {
      if (closed) return;
      closed = true;
      log(`gatehouse mcp: ${why}`);
      void Promise.allSettled([remote.close(), local.close()]).then(() => resolve());
    };
    local.onmessage = (message) => {
      remote
        .send(message)
        .catch((error: unknown) => log(`gatehouse mcp: forwarding failed: ${errorText(error)}`));
    };
    remote.onmessage = (message) => {
      local.send(message).catch((error: unknown) => log(`gatehouse mcp: reply failed: ${errorText(error)}`));
    };
    remote.onerror = (error) => log(`gatehouse mcp: ${errorText(error)}`);
    local.onclose = () => close('client closed');
    remote.onclose = () => close('server closed the session');
    void remote.start().then(() => local.start());
  });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
