import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { GatehouseError } from '../../errors/index.js';
import type { LlmProviderConfig } from './operations.js';

// Connections to providers are reused: a TLS handshake per request would cost more than the whole gateway.
// Idle pooled connections close after 15 s, before providers' own keep-alive timeouts close them under us.
const AGENTS = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 15_000 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256, timeout: 15_000 }),
};

/**
 * Headers of the agent's request that never reach the provider: its credentials (the Gatehouse token, or a
 * provider key that was refused anyway), cookies, hop-by-hop fields, Gatehouse's own, and account selectors the
 * operator sets in the provider's configuration instead.
 */
const DROPPED_REQUEST_HEADERS = new Set([
  'authorization',
  'x-api-key',
  'api-key',
  'proxy-authorization',
  'cookie',
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'content-length',
  'accept-encoding',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'gatehouse-session',
  'openai-organization',
  'openai-project',
]);

/** Response headers the agent does not get: hop-by-hop fields and the provider's cookies. */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'set-cookie',
]);

export interface ProviderRequest {
  provider: LlmProviderConfig;
  method: 'GET' | 'POST';
  /** The path under the provider's `baseUrl`, with the agent's query string. */
  path: string;
  agentHeaders: IncomingHttpHeaders;
  /** The revealed provider key. */
  key: string;
  body: Buffer | null;
  signal: AbortSignal;
}

/** The provider's URL for a path under its API root. */
export function providerUrl(provider: LlmProviderConfig, path: string): URL {
  return new URL(`${provider.baseUrl.replace(/\/+$/, '')}/${path}`);
}

/**
 * Sends one request to the provider with its key injected (`Authorization: Bearer` for OpenAI, `x-api-key`
 * and a default `anthropic-version` for Anthropic) and resolves with the response once its headers arrive. The
 * provider's `timeout` bounds the wait for the headers and every later gap between body chunks
 * (`provider_timeout`); a refused connection is `provider_unavailable`. Bodies are asked for uncompressed, so
 * the gateway can read the usage while passing them through.
 */
export interface ProviderResponse {
  message: IncomingMessage;
  /** The body stalled longer than the provider's `timeout` and was cut. */
  timedOut(): boolean;
}

export function sendProviderRequest(request: ProviderRequest): Promise<ProviderResponse> {
  const { provider } = request;
  const url = providerUrl(provider, request.path);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.agentHeaders)) {
    if (value !== undefined && !DROPPED_REQUEST_HEADERS.has(name)) headers[name] = value;
  }
  for (const [name, value] of Object.entries(provider.headers)) headers[name.toLowerCase()] = value;
  headers['accept-encoding'] = 'identity';
  if (provider.kind === 'anthropic') {
    headers['x-api-key'] = request.key;
    headers['anthropic-version'] ??= '2023-06-01';
  } else {
    headers.authorization = `Bearer ${request.key}`;
  }
  if (request.body) headers['content-length'] = request.body.length;

  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const outgoing = transport.request(url, {
      method: request.method,
      headers,
      agent: AGENTS[url.protocol as keyof typeof AGENTS],
      signal: request.signal,
    });
    let answered = false;
    let timedOut = false;
    outgoing.setTimeout(provider.timeout, () => {
      timedOut = true;
      outgoing.destroy(
        new GatehouseError(
          'provider_timeout',
          `provider \`${provider.name}\` sent nothing for ${provider.timeout} ms`,
          { expose: true },
        ),
      );
    });
    outgoing.on('response', (message) => {
      answered = true;
      resolve({ message, timedOut: () => timedOut });
    });
    outgoing.on('error', (error) => {
      if (answered) return;
      reject(toProviderError(provider, error));
    });
    outgoing.end(request.body ?? undefined);
  });
}

/** The provider's response headers as the agent gets them. */
export function agentResponseHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name)) out[name] = value;
  }
  return out;
}

function toProviderError(provider: LlmProviderConfig, error: unknown): GatehouseError {
  if (error instanceof GatehouseError) return error;
  if ((error as { name?: string }).name === 'AbortError') {
    return new GatehouseError('call_cancelled', 'the agent closed the request');
  }
  const code = (error as NodeJS.ErrnoException).code;
  return new GatehouseError(
    'provider_unavailable',
    `provider \`${provider.name}\` is unreachable${code ? ` (${code})` : ''}`,
    { cause: error, expose: true },
  );
}
