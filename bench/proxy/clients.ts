/**
 * The two load-generating clients of bench/proxy. Each opens one MCP session (initialize, then
 * `notifications/initialized`) and then calls `tools/call` on the echo tool, one call at a time.
 *
 * - `sdk`: the official SDK `Client` over `StreamableHTTPClientTransport` (global fetch, i.e. undici, with
 *   keep-alive), as an agent would use it. It also opens the standalone GET stream a Streamable HTTP client
 *   keeps for server-initiated messages.
 * - `raw`: JSON-RPC posted with node:http over a keep-alive agent, the `Mcp-Session-Id` and protocol
 *   headers set by hand, the response read whole (plain JSON, or the SSE stream of one POST). Much less
 *   client CPU per call, so on a 2-core machine more of it is left to the servers.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

export type ClientKind = 'sdk' | 'raw';

/** Where the calls go: the MCP endpoint, the echo tool's name there, and headers for every request. */
export interface CallTarget {
  url: string;
  tool: string;
  headers: Record<string, string>;
}

export interface BenchSession {
  /** One `tools/call`; rejects unless the echo came back. */
  call(): Promise<void>;
  close(): Promise<void>;
}

const TEXT = 'hello from bench/proxy';
const CLIENT_INFO = { name: 'bench-proxy', version: '1.0.0' };

export function openSession(kind: ClientKind, target: CallTarget): Promise<BenchSession> {
  return kind === 'sdk' ? openSdkSession(target) : openRawSession(target);
}

async function openSdkSession(target: CallTarget): Promise<BenchSession> {
  const transport = new StreamableHTTPClientTransport(new URL(target.url), {
    requestInit: { headers: target.headers },
  });
  const client = new Client(CLIENT_INFO);
  await client.connect(transport);
  return {
    async call() {
      const result = await client.callTool({ name: target.tool, arguments: { text: TEXT } });
      checkEcho(result);
    },
    async close() {
      await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

const rawAgent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(
  url: URL,
  method: 'POST' | 'DELETE',
  headers: Record<string, string>,
  body?: string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        agent: rawAgent,
        headers: {
          ...headers,
          accept: 'application/json, text/event-stream',
          ...(body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The JSON-RPC message of a response: the body itself, or the last `data:` event of an SSE stream. */
function messageOf(response: RawResponse): { result?: unknown; error?: { message?: string } } {
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${response.body.slice(0, 300)}`);
  const type = response.headers['content-type'] ?? '';
  if (!type.startsWith('text/event-stream')) return JSON.parse(response.body);
  const data = response.body
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .at(-1);
  if (data === undefined) throw new Error('an SSE response with no data event');
  return JSON.parse(data.slice(5));
}

async function openRawSession(target: CallTarget): Promise<BenchSession> {
  const url = new URL(target.url);
  let id = 0;
  const initialized = await send(
    url,
    'POST',
    target.headers,
    JSON.stringify({
      jsonrpc: '2.0',
      id: ++id,
      method: 'initialize',
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: CLIENT_INFO },
    }),
  );
  const init = messageOf(initialized) as { result?: { protocolVersion?: string }; error?: unknown };
  const sessionId = initialized.headers['mcp-session-id'];
  if (!init.result || typeof sessionId !== 'string') {
    throw new Error(`initialize failed: ${initialized.body.slice(0, 300)}`);
  }
  const headers = {
    ...target.headers,
    'mcp-session-id': sessionId,
    'mcp-protocol-version': init.result.protocolVersion ?? LATEST_PROTOCOL_VERSION,
  };
  const notified = await send(
    url,
    'POST',
    headers,
    JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  );
  if (notified.status !== 202) throw new Error(`notifications/initialized: HTTP ${notified.status}`);
  return {
    async call() {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: ++id,
        method: 'tools/call',
        params: { name: target.tool, arguments: { text: TEXT } },
      });
      const message = messageOf(await send(url, 'POST', headers, body));
      if (message.error) throw new Error(message.error.message ?? 'JSON-RPC error');
      checkEcho(message.result);
    },
    async close() {
      await send(url, 'DELETE', headers).catch(() => {});
    },
  };
}

function checkEcho(result: unknown): void {
  const { content, isError } = (result ?? {}) as { content?: Array<{ text?: string }>; isError?: boolean };
  const text = content?.[0]?.text;
  if (isError || text !== TEXT) throw new Error(`unexpected tool result: ${JSON.stringify(result)}`);
}
