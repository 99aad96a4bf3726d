import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { GatehouseError } from '../errors/index.js';
import { registerEgressRoutes } from '../gateway/egress/index.js';
import { registerLlmGateway } from '../gateway/llm/index.js';
import { registerMcpEndpoint } from '../gateway/mcp/mcp-endpoint.js';
import type { UpstreamPort } from '../gateway/mcp/ports.js';
import { createUpstreamPool } from '../gateway/upstreams/index.js';
import { type AdminPrincipal, hasPermission, type Permission } from '../identity/admin-principal.js';
import { authenticateAdminToken } from '../identity/admin-tokens.js';
import type { Gatehouse } from './create-gatehouse.js';
import { classifyRequestError, sendProblem } from './problem.js';
import { registerAdminRoutes } from './routes/admin-routes.js';
import { registerAuthzenRoutes } from './routes/authzen-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerOAuthRoutes } from './routes/oauth-routes.js';
import { authenticateDashboardSession, registerDashboard } from './ui/register-dashboard.js';

declare module 'fastify' {
  interface FastifyRequest {
    adminPrincipal: AdminPrincipal | null;
  }
}

export interface BuildAppOptions {
  /**
   * The CLI's direct mode: the app is never bound to a port, requests come through `inject()` from the local
   * operator, who owns the data directory anyway. Never set this for a listening server.
   */
  localOperator?: AdminPrincipal;
  /** Pino log level for request and error logs; off unless given (the CLI's direct mode never logs). */
  logLevel?: string;
  /** The upstream MCP servers `/mcp` fronts; none when absent. */
  upstreams?: UpstreamPort;
  /** Operational lines from the MCP gateway. */
  log?: (line: string) => void;
}

export type GatehouseApp = FastifyInstance;

/** The HTTP face of Gatehouse: admin API, OAuth endpoints, JWKS, health and OpenAPI. */
export async function buildApp(
  gatehouse: Gatehouse,
  options: BuildAppOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      options.logLevel === undefined || options.logLevel === 'silent' ? false : { level: options.logLevel },
    bodyLimit: gatehouse.config.server.bodyLimitBytes,
    // Unknown fields are rejected by the strict zod schemas; nothing is silently dropped or coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error, request, reply) => {
    const problem = classifyRequestError(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(request, reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      new GatehouseError('route_not_found', `no route \`${request.method} ${request.url.split('?')[0]}\``),
    ),
  );
  app.decorateRequest('adminPrincipal', null);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse admin API',
        version: '1',
        description:
          'Registry, identity and audit of AI agents. Errors are RFC 9457 problem+json with a stable `code`.',
      },
      components: {
        securitySchemes: {
          adminToken: { type: 'http', scheme: 'bearer', description: 'gatehouse admin token create' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerHealthRoutes(app, gatehouse);
  await registerDashboard(app, gatehouse);
  registerAuthzenRoutes(app, gatehouse, options.localOperator);
  const mcp = await registerMcpEndpoint(app, {
    gatehouse,
    upstreams: options.upstreams ?? noUpstreams(),
    log: options.log ?? (() => {}),
  });
  app.addHook('onClose', () => mcp.close());
  // Agents' credentialed API routes: agent tokens, never the admin auth hook.
  await registerEgressRoutes(app, { gatehouse, log: options.log ?? (() => {}) });
  const llm = await registerLlmGateway(app, { gatehouse, log: options.log ?? (() => {}) });
  app.addHook('onClose', () => llm.close());
  await app.register(async (scoped) => {
    registerOAuthRoutes(scoped, {
      store: gatehouse.store,
      keyring: gatehouse.keyring,
      audit: gatehouse.audit,
      clock: gatehouse.clock,
      issuer: gatehouse.issuer,
      tokenEndpoint: gatehouse.tokenEndpoint,
      audience: gatehouse.config.tokens.audience,
      accessTokenTtlMs: gatehouse.config.tokens.accessTokenTtl,
      clientAssertionMaxAgeMs: gatehouse.config.tokens.clientAssertionMaxAge,
      clockSkewMs: gatehouse.config.tokens.clockSkew,
      identity: gatehouse.config.identity,
    });
  });
  await app.register(
    async (admin) => {
      admin.addHook('onRequest', async (request) => {
        request.adminPrincipal = await authenticateAdmin(gatehouse, request, options.localOperator);
      });
      registerAdminRoutes(admin.withTypeProvider<ZodTypeProvider>(), gatehouse);
    },
    { prefix: '/admin/v1' },
  );
  return app;
}

/**
 * Who is behind an admin bearer token, a dashboard session cookie, or the local operator in CLI direct mode;
 * `unauthorized` otherwise.
 */
export async function authenticateAdmin(
  gatehouse: Gatehouse,
  request: FastifyRequest,
  localOperator: AdminPrincipal | undefined,
): Promise<AdminPrincipal> {
  const header = request.headers.authorization;
  if (header === undefined && localOperator) return localOperator;
  // The dashboard: a session cookie (plus the CSRF header on state changes) stands in for the bearer token.
  if (header === undefined) {
    const viaCookie = await authenticateDashboardSession(gatehouse, request);
    if (viaCookie) return viaCookie;
  }
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header ?? '');
  if (!match?.[1]) throw new GatehouseError('unauthorized', 'a valid admin bearer token is required');
  return authenticateAdminToken(gatehouse, match[1]);
}

/** A route guard: the caller's role must grant `permission`. */
export function requirePermission(permission: Permission) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const principal = request.adminPrincipal;
    if (!principal) throw new GatehouseError('unauthorized', 'a valid admin bearer token is required');
    if (!hasPermission(principal, permission)) {
      throw new GatehouseError('forbidden', `role \`${principal.role}\` may not ${permission} here`);
    }
  };
}

/** The authenticated admin principal of a request that passed a permission guard. */
export function principalOf(request: FastifyRequest): AdminPrincipal {
  if (!request.adminPrincipal)
    throw new GatehouseError('unauthorized', 'a valid admin bearer token is required');
  return request.adminPrincipal;
}

function noUpstreams(): UpstreamPort {
  return createUpstreamPool({
    upstreams: [],
    credentials: async () => ({}),
    defaultTimeoutMs: 30_000,
    log: () => {},
    clientInfo: { name: 'gatehouse', version: '0.1.0' },
  });
}
