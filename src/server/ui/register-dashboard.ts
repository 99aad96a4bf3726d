import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { GatehouseError } from '../../errors/index.js';
import type { AdminPrincipal } from '../../identity/admin-principal.js';
import { authenticateAdminToken } from '../../identity/admin-tokens.js';
import type { Gatehouse } from '../create-gatehouse.js';
import {
  CSRF_HEADER,
  createDashboardSessions,
  csrfTokenMatches,
  type DashboardSessions,
  readCookie,
  SESSION_COOKIE,
  sessionCookie,
} from './dashboard-sessions.js';

/** Where `vite build web` puts the dashboard: `web/dist`, three levels above both `src/server/ui` and `dist/server/ui`. */
export const DASHBOARD_ASSETS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../web/dist');

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const sessionsByGatehouse = new WeakMap<Gatehouse, DashboardSessions>();

/** The dashboard sessions of one Gatehouse instance (created on first use). */
export function dashboardSessionsOf(gatehouse: Gatehouse): DashboardSessions {
  let sessions = sessionsByGatehouse.get(gatehouse);
  if (!sessions) {
    sessions = createDashboardSessions(gatehouse.clock);
    sessionsByGatehouse.set(gatehouse, sessions);
  }
  return sessions;
}

/**
 * The admin principal behind a dashboard session cookie, or undefined when the request carries none. A cookie that
 * names no live session is `unauthorized`; a state-changing request without the session's CSRF header is
 * `csrf_token_invalid`.
 */
export async function authenticateDashboardSession(
  gatehouse: Gatehouse,
  request: FastifyRequest,
): Promise<AdminPrincipal | undefined> {
  const id = readCookie(request.headers.cookie, SESSION_COOKIE);
  if (id === undefined) return undefined;
  const session = dashboardSessionsOf(gatehouse).find(id);
  if (!session) throw new GatehouseError('unauthorized', 'a valid admin bearer token is required');
  if (!['GET', 'HEAD', 'OPTIONS'].includes(request.method)) {
    const header = request.headers[CSRF_HEADER];
    if (!csrfTokenMatches(session, typeof header === 'string' ? header : undefined)) {
      throw new GatehouseError(
        'csrf_token_invalid',
        `a state change needs the session's \`${CSRF_HEADER}\` header`,
      );
    }
  }
  return authenticateAdminToken(gatehouse, session.adminSecret);
}

/** The dashboard: static files at `/ui/`, and sign-in, session and sign-out at `/ui/session`. */
export async function registerDashboard(app: FastifyInstance, gatehouse: Gatehouse): Promise<void> {
  const sessions = dashboardSessionsOf(gatehouse);
  const secureCookies = (request: FastifyRequest) =>
    request.protocol === 'https' || (gatehouse.config.server.publicUrl ?? '').startsWith('https:');

  await app.register(async (ui) => {
    ui.addHook('onSend', async (_request, reply: FastifyReply, payload) => {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('x-frame-options', 'DENY');
      return payload;
    });
    const api = ui.withTypeProvider<ZodTypeProvider>();

    api.post(
      '/ui/session',
      {
        schema: {
          hide: true,
          body: z.strictObject({ token: z.string().min(1).max(200) }),
        },
      },
      async (request, reply) => {
        // Login CSRF: a cross-site page must not sign the browser in with the attacker's token.
        const origin = request.headers.origin;
        if (origin !== undefined && origin !== `${request.protocol}://${request.host}`) {
          const publicOrigin = gatehouse.config.server.publicUrl
            ? new URL(gatehouse.config.server.publicUrl).origin
            : undefined;
          if (origin !== publicOrigin) {
            throw new GatehouseError(
              'csrf_token_invalid',
              `sign-in from origin \`${origin}\` is not allowed`,
            );
          }
        }
        const principal = await authenticateAdminToken(gatehouse, request.body.token);
        const opened = sessions.open(request.body.token);
        await gatehouse.audit.record({
          actor: principal.actor,
          action: 'dashboard.signed_in',
          target: principal.actor,
          details: { role: principal.role },
        });
        reply.header('set-cookie', sessionCookie(opened.id, secureCookies(request)));
        reply.header('cache-control', 'no-store');
        return { role: principal.role, actor: principal.actor, csrfToken: opened.csrfToken };
      },
    );

    api.get('/ui/session', { schema: { hide: true } }, async (request, reply) => {
      const id = readCookie(request.headers.cookie, SESSION_COOKIE);
      const session = id === undefined ? undefined : sessions.find(id);
      if (!session) throw new GatehouseError('unauthorized', 'not signed in');
      const principal = await authenticateAdminToken(gatehouse, session.adminSecret);
      reply.header('cache-control', 'no-store');
      return { role: principal.role, actor: principal.actor, csrfToken: session.csrfToken };
    });

    api.delete('/ui/session', { schema: { hide: true } }, async (request, reply) => {
      const principal = await authenticateDashboardSession(gatehouse, request);
      const id = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (id !== undefined) sessions.close(id);
      if (principal) {
        await gatehouse.audit.record({
          actor: principal.actor,
          action: 'dashboard.signed_out',
          target: principal.actor,
        });
      }
      reply.header('set-cookie', sessionCookie(null, secureCookies(request)));
      return reply.status(204).send();
    });

    ui.get('/ui', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/ui/'));
    if (existsSync(join(DASHBOARD_ASSETS, 'index.html'))) {
      await ui.register(fastifyStatic, { root: DASHBOARD_ASSETS, prefix: '/ui/', index: 'index.html' });
    } else {
      ui.get('/ui/', { schema: { hide: true } }, async (_request, reply) =>
        reply
          .status(503)
          .type('text/plain; charset=utf-8')
          .send('The dashboard is not built. Run `npm run build` and restart Gatehouse.\n'),
      );
    }
  });
}
