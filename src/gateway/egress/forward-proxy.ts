import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';
import { GatehouseError, isGatehouseError } from '../../errors/index.js';
import type { Gatehouse } from '../../server/create-gatehouse.js';
import { SESSION_HEADER } from '../agent-requests.js';
import { type AuthenticatedAgent, authenticateAgent } from '../mcp/agent-auth.js';
import { authorizeEgress, type EgressGrant, permits, refusalOfDecision } from './authorize-egress.js';
import { countBytes } from './byte-counter.js';
import { connectDestination } from './connect-destination.js';
import { type HostLookup, resolveDestination } from './destination-address.js';
import {
  authorityOf,
  type EgressTarget,
  parseAbsoluteTarget,
  parseConnectTarget,
  pathAndQueryOf,
} from './egress-target.js';
import { forwardableHeaders } from './forwardable-headers.js';
import { readProxyCredentials } from './proxy-credentials.js';
import { recordEgressOutcome } from './record-egress-outcome.js';

export interface EgressProxy {
  /** `http://host:port`, what agents put in `HTTP_PROXY` and `HTTPS_PROXY`. */
  url: string;
  close(): Promise<void>;
}

export interface EgressProxyOptions {
  host: string;
  port: number;
  log?: (line: string) => void;
  /** Name resolution; the system resolver unless given (tests). */
  lookup?: HostLookup;
}

/** What a refused agent reads: a stable code, the reason, and the rules that decided, if policy did. */
export interface EgressRefusalBody {
  code: string;
  reason: string;
  ruleIds: string[];
  decision?: string;
}

interface Refusal {
  status: number;
  body: EgressRefusalBody;
}

const PROXY_CHALLENGE = ['Bearer realm="gatehouse"', 'Basic realm="gatehouse"'];
// Never forwarded: the client's Host (replaced by the target's authority), our session header, and Expect
// (Node already answered `100 Continue` to the client).
const DROP_REQUEST_HEADERS = new Set(['host', SESSION_HEADER, 'expect']);

/**
 * The forward proxy agents reach plain HTTP through (`HTTP_PROXY`/`HTTPS_PROXY`): absolute-form requests are
 * forwarded with bodies streamed both ways, CONNECT opens a TCP tunnel (TLS passes through untouched). Every
 * request and tunnel is authenticated with the agent's access token, checked against its manifest, decided by
 * policy as `http.request`, checked against private addresses once resolved, and audited.
 */
export async function startEgressProxy(
  gatehouse: Gatehouse,
  options: EgressProxyOptions,
): Promise<EgressProxy> {
  const log = options.log ?? (() => {});
  const config = gatehouse.config.egress;
  const tunnels = new Set<Duplex>();
  const server: Server = createServer();

  const authenticate = async (
    request: IncomingMessage,
  ): Promise<{ auth: AuthenticatedAgent; requestedSession: string | undefined }> => {
    const credentials = readProxyCredentials(request.headers['proxy-authorization']);
    if (!credentials) {
      throw new GatehouseError(
        'proxy_auth_required',
        'proxy credentials are required: the Gatehouse access token as `Proxy-Authorization: Bearer <token>` or as the proxy password',
      );
    }
    let auth: AuthenticatedAgent;
    try {
      auth = await authenticateAgent(gatehouse, `Bearer ${credentials.token}`);
    } catch (error) {
      if (isGatehouseError(error) && error.code === 'invalid_token') {
        throw new GatehouseError(
          'proxy_auth_required',
          'the proxy credentials are not a valid Gatehouse access token',
        );
      }
      throw error;
    }
    const header = request.headers[SESSION_HEADER];
    const requestedSession = typeof header === 'string' && header !== '' ? header : credentials.sessionId;
    return { auth, requestedSession };
  };

  /** Manifest, policy, then the resolved addresses; returns what to connect to, or throws the refusal. */
  const admit = async (
    auth: AuthenticatedAgent,
    method: string,
    target: EgressTarget,
    requestedSession: string | undefined,
    onGrant: (grant: EgressGrant) => void,
  ): Promise<Socket> => {
    const grant = await authorizeEgress(
      gatehouse,
      { agent: auth.agent, method, target, requestedSession },
      { checkAddress: true },
    );
    onGrant(grant);
    if (!permits(grant.decision)) throw refusalOfDecision(grant.decision);
    const addresses = await resolveDestination(target.host, config, options.lookup);
    return connectDestination(addresses, target.port, config.connectTimeout);
  };

  const refusalOf = (error: unknown): Refusal => {
    if (!isGatehouseError(error)) {
      log(`error: egress proxy: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return {
        status: 500,
        body: { code: 'internal_error', reason: 'internal error', ruleIds: [] },
      };
    }
    const details = error.details ?? {};
    const body: EgressRefusalBody = {
      code: error.code,
      reason: error.expose ? error.message : 'internal error',
      ruleIds: Array.isArray(details.ruleIds) ? (details.ruleIds as string[]) : [],
      ...(typeof details.decision === 'string' ? { decision: details.decision } : {}),
    };
    // A proxy answers 401 for nobody: clients read it as the origin's. Inactive agents are plainly refused.
    const status = error.code === 'agent_inactive' ? 403 : error.status;
    return { status, body };
  };

  const handleRequest = async (request: IncomingMessage, response: ServerResponse) => {
    const started = performance.now();
    let authenticated: Awaited<ReturnType<typeof authenticate>>;
    try {
      authenticated = await authenticate(request);
    } catch (error) {
      sendRefusal(response, refusalOf(error));
      return;
    }
    const method = request.method ?? 'GET';
    let target: EgressTarget | undefined;
    let grant: EgressGrant | undefined;
    let status = 0;
    let code: string | undefined;
    const bytes = { sent: 0, received: 0 };
    try {
      target = parseAbsoluteTarget(request.url ?? '');
      const parsed = target;
      const socket = await admit(authenticated.auth, method, parsed, authenticated.requestedSession, (g) => {
        grant = g;
      });
      status = await forward(request, response, socket, parsed, bytes, config.idleTimeout);
    } catch (error) {
      const refusal = refusalOf(error);
      code = refusal.body.code;
      status = refusal.status;
      if (!response.headersSent) sendRefusal(response, refusal);
      else response.destroy();
    } finally {
      await recordEgressOutcome(
        gatehouse,
        {
          agentId: authenticated.auth.agent.id,
          method,
          target: target ?? { scheme: 'http', host: '', port: 0 },
          sessionId: grant?.sessionId,
          step: grant?.step,
          status,
          code,
          bytesSent: bytes.sent,
          bytesReceived: bytes.received,
          durationMs: performance.now() - started,
        },
        log,
      );
    }
  };

  const handleConnect = async (request: IncomingMessage, client: Duplex, head: Buffer) => {
    const started = performance.now();
    tunnels.add(client);
    client.on('error', () => client.destroy());
    client.on('close', () => tunnels.delete(client));
    let authenticated: Awaited<ReturnType<typeof authenticate>>;
    try {
      authenticated = await authenticate(request);
    } catch (error) {
      writeRawRefusal(client, refusalOf(error));
      return;
    }
    let target: EgressTarget | undefined;
    let grant: EgressGrant | undefined;
    const bytes = { sent: 0, received: 0 };
    const outcome = (status: number, code: string | undefined) =>
      recordEgressOutcome(
        gatehouse,
        {
          agentId: authenticated.auth.agent.id,
          method: 'CONNECT',
          target: target ?? { scheme: 'tunnel', host: '', port: 0 },
          sessionId: grant?.sessionId,
          step: grant?.step,
          status,
          code,
          bytesSent: bytes.sent,
          bytesReceived: bytes.received,
          durationMs: performance.now() - started,
        },
        log,
      );
    let upstream: Socket;
    try {
      target = parseConnectTarget(request.url ?? '');
      upstream = await admit(authenticated.auth, 'CONNECT', target, authenticated.requestedSession, (g) => {
        grant = g;
      });
    } catch (error) {
      const refusal = refusalOf(error);
      writeRawRefusal(client, refusal);
      await outcome(refusal.status, refusal.body.code);
      return;
    }
    if (client.destroyed) {
      upstream.destroy();
      await outcome(499, 'call_cancelled');
      return;
    }
    tunnels.add(upstream);
    upstream.setTimeout(config.idleTimeout, () => upstream.destroy());
    const closed = new Promise<void>((resolve) => {
      let open = 2;
      const done = () => {
        open -= 1;
        client.destroy();
        upstream.destroy();
        if (open === 0) resolve();
      };
      pipeline(
        client,
        countBytes((n) => {
          bytes.sent += n;
        }),
        upstream,
        done,
      );
      pipeline(
        upstream,
        countBytes((n) => {
          bytes.received += n;
        }),
        client,
        done,
      );
    });
    upstream.on('close', () => tunnels.delete(upstream));
    if (head.length > 0) {
      bytes.sent += head.length;
      upstream.write(head);
    }
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    await closed;
    await outcome(200, undefined);
  };

  server.on('request', (request, response) => {
    void handleRequest(request, response).catch((error: unknown) => {
      log(`error: egress proxy: ${error instanceof Error ? error.message : String(error)}`);
      response.destroy();
    });
  });
  server.on('connect', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    void handleConnect(request, socket, head).catch((error: unknown) => {
      log(`error: egress proxy: ${error instanceof Error ? error.message : String(error)}`);
      socket.destroy();
    });
  });
  // Requests Node's parser refuses (a raw CR or LF in the target, a bad header) never reach a handler.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    writeRawRefusal(socket, {
      status: 400,
      body: { code: 'egress_target_invalid', reason: 'the request could not be parsed', ruleIds: [] },
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  log(`egress proxy listening on ${url}`);
  if (config.allowPrivateAddresses) {
    log(
      'warning: egress.allowPrivateAddresses is on: agents can reach loopback and internal networks through the proxy',
    );
  }
  if (config.allowPrivateHosts.includes('*')) {
    log('warning: egress.allowPrivateHosts has `*`: agents can reach any address, cloud metadata included');
  }

  return {
    url,
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of tunnels) socket.destroy();
      await closing;
    },
  };
}

/**
 * Sends the request to the destination over `socket` and streams the response back. Resolves with the status
 * sent to the agent once the exchange is over; rejects (for a refusal) only while no response head was sent.
 */
function forward(
  request: IncomingMessage,
  response: ServerResponse,
  socket: Socket,
  target: EgressTarget,
  bytes: { sent: number; received: number },
  idleTimeoutMs: number,
): Promise<number> {
  if (response.destroyed) {
    socket.destroy();
    return Promise.resolve(499);
  }
  return new Promise((resolve, reject) => {
    const headers = [
      'Host',
      authorityOf(target),
      ...forwardableHeaders(request.rawHeaders, DROP_REQUEST_HEADERS),
    ];
    headers.push('Connection', 'close');
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    const upstream = httpRequest({
      method: request.method,
      path: pathAndQueryOf(target),
      headers,
      setHost: false,
      createConnection: () => socket,
    });
    socket.setTimeout(idleTimeoutMs, () =>
      upstream.destroy(
        new GatehouseError('egress_timeout', `the destination sent nothing for ${idleTimeoutMs} ms`),
      ),
    );
    upstream.on('error', (error) => {
      if (!response.headersSent) {
        settle(() =>
          reject(
            isGatehouseError(error)
              ? error
              : new GatehouseError(
                  'egress_unreachable',
                  'the destination closed the connection before answering',
                  {
                    cause: error,
                  },
                ),
          ),
        );
      } else {
        response.destroy();
        settle(() => resolve(response.statusCode));
      }
    });
    upstream.on('response', (answer) => {
      const status = answer.statusCode ?? 502;
      response.writeHead(status, answer.statusMessage, forwardableHeaders(answer.rawHeaders));
      pipeline(
        answer,
        countBytes((n) => {
          bytes.received += n;
        }),
        response,
        (error) => {
          if (error) {
            response.destroy();
            upstream.destroy();
          }
          settle(() => resolve(status));
        },
      );
    });
    pipeline(
      request,
      countBytes((n) => {
        bytes.sent += n;
      }),
      upstream,
      (error) => {
        if (error) upstream.destroy();
      },
    );
    response.on('close', () => {
      // The agent went away before the exchange finished: stop talking to the destination.
      if (!response.writableFinished) upstream.destroy();
    });
  });
}

function sendRefusal(response: ServerResponse, refusal: Refusal): void {
  const body = JSON.stringify(refusal.body);
  const headers: Record<string, string | string[]> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  };
  if (refusal.status === 407) headers['proxy-authenticate'] = PROXY_CHALLENGE;
  response.writeHead(refusal.status, headers);
  response.end(body);
}

function writeRawRefusal(socket: Duplex, refusal: Refusal): void {
  const body = JSON.stringify(refusal.body);
  const lines = [
    `HTTP/1.1 ${refusal.status} ${reasonPhrase(refusal.status)}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...(refusal.status === 407 ? PROXY_CHALLENGE.map((challenge) => `Proxy-Authenticate: ${challenge}`) : []),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

function reasonPhrase(status: number): string {
  const phrases: Record<number, string> = {
    400: 'Bad Request',
    403: 'Forbidden',
    404: 'Not Found',
    407: 'Proxy Authentication Required',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    504: 'Gateway Timeout',
  };
  return phrases[status] ?? 'Error';
}
