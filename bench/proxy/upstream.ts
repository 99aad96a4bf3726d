/**
 * The trivial upstream of bench/proxy, run as its own process: a Streamable HTTP MCP server (SDK `McpServer`
 * + `StreamableHTTPServerTransport` on node:http) with one tool, `echo`, that returns its `text` argument.
 *
 * Stateful sessions (one server and transport per MCP session, found again by `Mcp-Session-Id`), answering
 * POSTs with plain JSON (`enableJsonResponse`) by default, or with an SSE stream per POST (`--sse`). It counts
 * the echo calls that carried the injected credential header and a Gatehouse capability header, so the
 * benchmark can check that Gatehouse really injected both; it does not verify the capability (that would be
 * the upstream's cost, not the gateway's, and would make the direct and proxied runs fail).
 *
 * Usage (by bench/proxy.ts): `node --import tsx bench/proxy/upstream.ts [--sse]`; prints one `READY {json}`
 * line with its URL, answers `GET /stats`, and exits on SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { CAPABILITY_HEADER } from '../../src/verify/index.js';
import { announceReady, UPSTREAM_KEY_HEADER, type UpstreamStats } from './children.js';

const sse = process.argv.includes('--sse');
const expectedKey = process.env.BENCH_UPSTREAM_KEY ?? '';
const stats: UpstreamStats = { sessions: 0, calls: 0, withKey: 0, withCapability: 0 };
const transports = new Map<string, StreamableHTTPServerTransport>();

function echoServer(): McpServer {
  const server = new McpServer({ name: 'bench-upstream', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns its text.', inputSchema: { text: z.string() } },
    async ({ text }, extra) => {
      const headers: IncomingHttpHeaders = extra.requestInfo?.headers ?? {};
      stats.calls += 1;
      if (expectedKey !== '' && headers[UPSTREAM_KEY_HEADER] === expectedKey) stats.withKey += 1;
      if (typeof headers[CAPABILITY_HEADER] === 'string') stats.withCapability += 1;
      return { content: [{ type: 'text', text }] };
    },
  );
  return server;
}

const http = createServer(async (request, response) => {
  if (request.url === '/stats') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
    return;
  }
  if (request.url !== '/mcp') {
    response.writeHead(404).end();
    return;
  }
  const sessionId = request.headers['mcp-session-id'];
  if (typeof sessionId === 'string') {
    const transport = transports.get(sessionId);
    if (!transport) {
      response
        .writeHead(404, { 'content-type': 'application/json' })
        .end(
          JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'session not found' } }),
        );
      return;
    }
    await transport.handleRequest(request, response);
    return;
  }
  // No session: an initialize (anything else is refused by the transport itself).
  const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    enableJsonResponse: !sse,
    onsessioninitialized: (id) => {
      stats.sessions += 1;
      transports.set(id, transport);
    },
    onsessionclosed: (id) => {
      transports.delete(id);
    },
  });
  await echoServer().connect(transport);
  await transport.handleRequest(request, response);
});
http.keepAliveTimeout = 60_000;

http.listen(Number(process.env.BENCH_PORT ?? 0), '127.0.0.1', () => {
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  announceReady({ url: `http://127.0.0.1:${port}/mcp`, mode: sse ? 'sse' : 'json' });
});

process.on('SIGTERM', () => {
  http.closeAllConnections();
  http.close(() => process.exit(0));
});
