import { hostname, userInfo } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { GatehouseConfig } from '../config/index.js';
import { ERROR_CODES, type ErrorCode, GatehouseError } from '../errors/index.js';
import type { AdminPrincipal } from '../identity/admin-principal.js';
import { buildApp } from '../server/app.js';
import { createGatehouse, type Gatehouse } from '../server/create-gatehouse.js';

export interface AdminResponse {
  status: number;
  contentType: string;
  body: unknown;
  text: string;
}

/**
 * How the CLI reaches Gatehouse: over HTTP to a running server, or in-process against the embedded store. Both
 * speak the same admin API, so validation, roles and audit behave identically either way.
 */
export interface AdminClient {
  readonly mode: 'server' | 'direct';
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<AdminResponse>;
  /** The Gatehouse opened in direct mode (for commands that need more than the API, e.g. serve). */
  readonly gatehouse?: Gatehouse;
  close(): Promise<void>;
}

/** Throws the problem a non-2xx response carries as a GatehouseError, so the CLI maps it to an exit code. */
export function ensureOk(response: AdminResponse): AdminResponse {
  if (response.status < 400) return response;
  const problem = (response.body ?? {}) as { code?: string; detail?: string };
  const code = (problem.code && problem.code in ERROR_CODES ? problem.code : 'internal_error') as ErrorCode;
  throw new GatehouseError(code, problem.detail ?? `request failed with status ${response.status}`, {
    details: response.body as Record<string, unknown>,
  });
}

export function createHttpAdminClient(serverUrl: string, token: string | undefined): AdminClient {
  const base = serverUrl.replace(/\/+$/, '');
  return {
    mode: 'server',
    async request(method, path, body) {
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, {
          method,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (cause) {
        throw new GatehouseError('store_unavailable', `cannot reach gatehouse at \`${base}\``, { cause });
      }
      const text = await response.text();
      const contentType = response.headers.get('content-type') ?? '';
      return { status: response.status, contentType, text, body: parseBody(text, contentType) };
    },
    async close() {},
  };
}

/** The operator at this terminal, for the audit trail of direct-mode changes. */
export function localOperator(): AdminPrincipal {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {}
  return { actor: `cli:${user}@${hostname()}`, role: 'admin', userId: null };
}

export async function createDirectAdminClient(config: GatehouseConfig): Promise<AdminClient> {
  const operator = localOperator();
  const gatehouse = await createGatehouse(config, { actor: operator.actor });
  let app: FastifyInstance;
  try {
    app = await buildApp(gatehouse, { localOperator: operator });
  } catch (error) {
    await gatehouse.close();
    throw error;
  }
  return {
    mode: 'direct',
    gatehouse,
    async request(method, path, body) {
      const response = await app.inject({
        method,
        url: path,
        ...(body === undefined
          ? {}
          : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      const contentType = String(response.headers['content-type'] ?? '');
      return {
        status: response.statusCode,
        contentType,
        text: response.body,
        body: parseBody(response.body, contentType),
      };
    },
    async close() {
      await app.close();
      await gatehouse.close();
    },
  };
}

function parseBody(text: string, contentType: string): unknown {
  if (!contentType.includes('json') || contentType.includes('jsonl') || text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
