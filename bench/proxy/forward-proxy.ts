/**
 * The bare forwarding proxy of bench/proxy, run as its own process: the least any Node proxy does. A
 * node:http server that pipes every request to the upstream with `http.request` over a keep-alive agent,
 * and pipes the response back with its status and headers (`Mcp-Session-Id` included). No parsing, no
 * checks, no logging.
 *
 * Usage (by bench/proxy.ts): `BENCH_UPSTREAM=<url> node --import tsx bench/proxy/forward-proxy.ts`; prints
 * one `READY {json}` line with its URL, and exits on SIGTERM.
 */
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { announceReady } from './children.js';

const upstream = new URL(process.env.BENCH_UPSTREAM ?? '');
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, maxFreeSockets: 1024 });
/** Per-connection headers (RFC 9110 7.6.1) are not forwarded; Node sets its own. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te'];

const withoutHopByHop = (headers: IncomingHttpHeaders): IncomingHttpHeaders => {
  const copy = { ...headers };
  for (const name of HOP_BY_HOP) delete copy[name];
  return copy;
};

const server = createServer((request, response) => {
  const headers = withoutHopByHop(request.headers);
  headers.host = upstream.host;
  const forwarded = httpRequest(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers,
      agent,
    },
    (upstreamResponse) => {
      response.writeHead(upstreamResponse.statusCode ?? 502, withoutHopByHop(upstreamResponse.headers));
      upstreamResponse.pipe(response);
    },
  );
  forwarded.on('error', () => {
    if (!response.headersSent) response.writeHead(502);
    response.end();
  });
  // A client that goes away (the SDK's standalone GET stream at close) ends the upstream request too.
  response.on('close', () => {
    if (!response.writableFinished) forwarded.destroy();
  });
  request.pipe(forwarded);
});
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  announceReady({ url: `http://127.0.0.1:${port}${upstream.pathname}` });
});

process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
