import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';

/** The cookie that carries a dashboard session id. */
export const SESSION_COOKIE = 'gatehouse_session';
/** The header that carries the session's CSRF token on every state-changing request. */
export const CSRF_HEADER = 'x-csrf-token';

const IDLE_TIMEOUT_MS = 60 * 60 * 1000;
const ABSOLUTE_TIMEOUT_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 10_000;

export interface DashboardSession {
  /** The admin bearer secret signed in with: re-checked on every request, so revoking the token ends the session. */
  adminSecret: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface DashboardSessions {
  /** Opens a session for a verified admin secret; returns the cookie value and the CSRF token. */
  open(adminSecret: string): { id: string; csrfToken: string };
  /** The live session behind a cookie value, or undefined (unknown, signed out, idle or too old). */
  find(id: string): DashboardSession | undefined;
  close(id: string): void;
}

/**
 * Dashboard sessions held in this process's memory, keyed by a hash of the cookie value. A restart signs everyone
 * out; several replicas need sticky sessions (documented in docs/dashboard.md).
 */
export function createDashboardSessions(clock: Clock): DashboardSessions {
  const sessions = new Map<string, DashboardSession>();
  const key = (id: string) => createHash('sha256').update(id).digest('hex');
  const expired = (session: DashboardSession, now: number) =>
    now - session.lastSeenAt > IDLE_TIMEOUT_MS || now - session.createdAt > ABSOLUTE_TIMEOUT_MS;
  const prune = (now: number) => {
    for (const [k, session] of sessions) if (expired(session, now)) sessions.delete(k);
    // Still full: drop the oldest, so a flood of sign-ins cannot grow memory without bound.
    while (sessions.size >= MAX_SESSIONS) {
      const oldest = sessions.keys().next().value;
      if (oldest === undefined) break;
      sessions.delete(oldest);
    }
  };
  return {
    open(adminSecret) {
      const now = clock.now();
      prune(now);
      const id = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(32).toString('base64url');
      sessions.set(key(id), { adminSecret, csrfToken, createdAt: now, lastSeenAt: now });
      return { id, csrfToken };
    },
    find(id) {
      const k = key(id);
      const session = sessions.get(k);
      if (!session) return undefined;
      const now = clock.now();
      if (expired(session, now)) {
        sessions.delete(k);
        return undefined;
      }
      session.lastSeenAt = now;
      return session;
    },
    close(id) {
      sessions.delete(key(id));
    },
  };
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfTokenMatches(session: DashboardSession, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** One cookie's value from a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

/** The `Set-Cookie` value for a session id (or its removal when `id` is null). */
export function sessionCookie(id: string | null, secure: boolean): string {
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])];
  if (id === null) return [`${SESSION_COOKIE}=`, 'Max-Age=0', ...attributes].join('; ');
  return [`${SESSION_COOKIE}=${id}`, ...attributes].join('; ');
}
