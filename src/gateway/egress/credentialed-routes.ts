import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatehouseConfig } from '../../config/index.js';
import { GatehouseError, isGatehouseError } from '../../errors/index.js';
import type { Gatehouse } from '../../server/create-gatehouse.js';
import { SESSION_HEADER } from '../agent-requests.js';
import { authenticateAgent } from '../mcp/agent-auth.js';
import { authorizeEgress, type EgressGrant, permits, refusalOfDecision } from './authorize-egress.js';
import { countBytes } from './byte-counter.js';
import type { EgressTarget } from './egress-target.js';
import { forwardableHeaders } from './forwardable-headers.js';
import { recordEgressOutcome } from './record-egress-outcome.js';
import { routeUrl, withQueryParameter } from './route-url.js';
import { maskSecrets, maskText, secretNeedles } from './secret-masking.js';

type EgressRoute = GatehouseConfig['egress']['routes'][number];

const DEFAULT_ROUTE_TIMEOUT_MS = 30_000;
// RFC 9110 field-value characters: a CR or LF in a secret would split the header.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const ROUTE_PATH = /^\/egress\/([^/?]*)(.*)$/s;

/**
 * Credentialed routes: `/egress/<route>/...` reverse-proxies to the route's `baseUrl` with its credential
 * injected from the vault (header or query parameter), for agents that must call an API with a key they must
 * not hold. Agents authenticate with their access token (`Authorization: Bearer`), never with an admin token;
 * each request is decided as `http.request` (with `route` in its arguments) and audited. The credential is
 * masked out of everything that goes back: response headers and (uncompressed) bodies.
 */
export async function registerEgressRoutes(
  app: FastifyInstance,
  deps: { gatehouse: Gatehouse; log: (line: string) => void },
): Promise<void> {
  const { gatehouse, log } = deps;
  const routes = new Map(gatehouse.config.egress.routes.map((route) => [route.name, route]));

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const { agent } = await authenticateAgent(gatehouse, request.headers.authorization);
    const match = ROUTE_PATH.exec(request.raw.url ?? '');
    const name = decodeSegment(match?.[1] ?? '');
    const route = routes.get(name);
    if (!route) throw new GatehouseError('egress_route_not_found', `no egress route \`${name}\``);
    const method = request.method;
    let target: EgressTarget | undefined;
    let grant: EgressGrant | undefined;
    const bytes = { sent: 0, received: 0 };
    let status = 0;
    let code: string | undefined;
    try {
      const url = routeUrl(route.baseUrl, match?.[2] ?? '');
      target = targetOf(url);
      const header = request.headers[SESSION_HEADER];
      grant = await authorizeEgress(
        gatehouse,
        {
          agent,
          method,
          target,
          route: route.name,
          requestedSession: typeof header === 'string' && header !== '' ? header : undefined,
        },
        { checkAddress: false },
      );
      if (!permits(grant.decision)) throw refusalOfDecision(grant.decision);
      const secret = await gatehouse.vault.reveal(route.credential.secret, { upstream: route.name });
      const needles = secretNeedles([secret]);
      const answer = await sendUpstream(request.raw, route, url, secret, bytes);
      status = answer.statusCode ?? 502;
      reply.hijack();
      const headers = forwardableHeaders(answer.rawHeaders).map((value, index) =>
        index % 2 === 1 ? maskText(value, needles) : value,
      );
      reply.raw.writeHead(status, answer.statusMessage, headers);
      await new Promise<void>((resolve) => {
        reply.raw.on('close', () => {
          if (!reply.raw.writableFinished) answer.destroy();
        });
        pipeline(
          answer,
          maskSecrets(needles),
          countBytes((n) => {
            bytes.received += n;
          }),
          reply.raw,
          (error) => {
            if (error) reply.raw.destroy();
            resolve();
          },
        );
      });
    } catch (error) {
      code = isGatehouseError(error) ? error.code : 'internal_error';
      status = isGatehouseError(error) ? error.status : 500;
      throw error;
    } finally {
      await recordEgressOutcome(
        gatehouse,
        {
          agentId: agent.id,
          method,
          target: target ?? { scheme: 'http', host: '', port: 0 },
          route: route.name,
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

  await app.register(async (scoped) => {
    // Bodies stream through untouched: no parser reads them, whatever their type.
    scoped.removeAllContentTypeParsers();
    scoped.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scoped.all('/egress/:route', { schema: { hide: true } }, handle);
    scoped.all('/egress/:route/*', { schema: { hide: true } }, handle);
  });
}

function targetOf(url: URL): EgressTarget {
  const https = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const query = url.search.slice(1);
  return {
    scheme: https ? 'https' : 'http',
    host,
    port: url.port === '' ? (https ? 443 : 80) : Number(url.port),
    path: url.pathname,
    ...(query === '' ? {} : { query }),
  };
}

/** Sends the agent's request upstream with the credential; resolves with the response head. */
function sendUpstream(
  incoming: IncomingMessage,
  route: EgressRoute,
  url: URL,
  secret: string,
  bytes: { sent: number; received: number },
): Promise<IncomingMessage> {
  const { credential } = route;
  const drop = new Set(['host', 'authorization', SESSION_HEADER, 'expect', 'accept-encoding']);
  if (credential.header) drop.add(credential.header.toLowerCase());
  // Identity encoding keeps bodies readable, so a credential an upstream echoes back can be masked.
  const headers = [
    'Host',
    url.host,
    ...forwardableHeaders(incoming.rawHeaders, drop),
    'Accept-Encoding',
    'identity',
  ];
  let target = url;
  if (credential.header) {
    const value = `${credential.prefix}${secret}`;
    if (!HEADER_VALUE.test(value)) {
      throw new GatehouseError(
        'secret_unusable',
        `secret \`${credential.secret}\` cannot be sent in header \`${credential.header}\` for route \`${route.name}\`: ` +
          'its value has a line break or control character',
      );
    }
    headers.push(credential.header, value);
  } else if (credential.query) {
    target = withQueryParameter(url, credential.query, `${credential.prefix}${secret}`);
  }
  const timeoutMs = route.timeout ?? DEFAULT_ROUTE_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = send(target, { method: incoming.method, headers, setHost: false, timeout: timeoutMs });
    upstream.on('timeout', () =>
      upstream.destroy(
        new GatehouseError('egress_timeout', `route \`${route.name}\` did not answer within ${timeoutMs} ms`),
      ),
    );
    // The error may name the URL, and with it a query credential: it is never passed on, only classified.
    upstream.on('error', (error) =>
      reject(
        isGatehouseError(error)
          ? error
          : new GatehouseError(
              'egress_unreachable',
              `route \`${route.name}\`: the upstream could not be reached`,
            ),
      ),
    );
    upstream.on('response', resolve);
    pipeline(
      incoming,
      countBytes((n) => {
        bytes.sent += n;
      }),
      upstream,
      (error) => {
        if (error) upstream.destroy();
      },
    );
  });
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
