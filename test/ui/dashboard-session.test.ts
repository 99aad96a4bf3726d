import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminToken } from '../../src/identity/admin-tokens.js';
import { api, createTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';

const BOOTSTRAP = { actor: 'test:bootstrap', role: 'admin' as const, userId: null };

async function signIn(fixture: TestGatehouse, token: string, headers: Record<string, string> = {}) {
  const response = await fixture.app.inject({
    method: 'POST',
    url: '/ui/session',
    headers: { 'content-type': 'application/json', ...headers },
    payload: { token },
  });
  const setCookie = String(response.headers['set-cookie'] ?? '');
  return {
    response,
    setCookie,
    cookie: setCookie.split(';')[0] ?? '',
    csrf: response.statusCode === 200 ? (response.json() as { csrfToken: string }).csrfToken : '',
  };
}

describe('dashboard sign-in, session cookie and CSRF', () => {
  let fixture: TestGatehouse;
  beforeEach(async () => {
    fixture = await createTestGatehouse();
  });
  afterEach(async () => {
    await fixture.dispose();
  });

  it('exchanges an admin token for an httpOnly, SameSite=Strict cookie that authenticates the admin API', async () => {
    const { response, setCookie, cookie } = await signIn(fixture, fixture.admin);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ role: 'admin', csrfToken: expect.any(String) });
    expect(setCookie).toMatch(/^gatehouse_session=[A-Za-z0-9_-]{40,};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).not.toContain('Secure');
    expect(JSON.stringify(response.json())).not.toContain(fixture.admin);

    const agents = await fixture.app.inject({ method: 'GET', url: '/admin/v1/agents', headers: { cookie } });
    expect(agents.statusCode).toBe(200);
    const session = await fixture.app.inject({ method: 'GET', url: '/ui/session', headers: { cookie } });
    expect(session.json()).toMatchObject({ role: 'admin', csrfToken: response.json().csrfToken });
  });

  it('refuses an unknown token the same way as the API', async () => {
    const { response, setCookie } = await signIn(fixture, 'gha_not-a-token');
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 'unauthorized' });
    expect(setCookie).toBe('');
  });

  it('refuses a state change without the CSRF header, or with a wrong one', async () => {
    const { cookie, csrf } = await signIn(fixture, fixture.admin);
    const post = (headers: Record<string, string>) =>
      fixture.app.inject({
        method: 'POST',
        url: '/admin/v1/teams',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        payload: { name: 'research' },
      });
    const missing = await post({});
    expect(missing.statusCode).toBe(403);
    expect(missing.json()).toMatchObject({ code: 'csrf_token_invalid' });
    const wrong = await post({ 'x-csrf-token': `${csrf.slice(0, -2)}xx` });
    expect(wrong.json()).toMatchObject({ code: 'csrf_token_invalid' });
    const right = await post({ 'x-csrf-token': csrf });
    expect(right.statusCode).toBe(201);
  });

  it('ends the session on sign-out: the old cookie is refused', async () => {
    const { cookie, csrf } = await signIn(fixture, fixture.admin);
    const withoutCsrf = await fixture.app.inject({
      method: 'DELETE',
      url: '/ui/session',
      headers: { cookie },
    });
    expect(withoutCsrf.json()).toMatchObject({ code: 'csrf_token_invalid' });
    const out = await fixture.app.inject({
      method: 'DELETE',
      url: '/ui/session',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    const after = await fixture.app.inject({ method: 'GET', url: '/admin/v1/agents', headers: { cookie } });
    expect(after.statusCode).toBe(401);
    expect(
      (await fixture.app.inject({ method: 'GET', url: '/ui/session', headers: { cookie } })).statusCode,
    ).toBe(401);
  });

  it('keeps the role of the token: a read-only role cannot suspend through the dashboard either', async () => {
    await api(fixture, 'POST', '/admin/v1/teams', { name: 'research' });
    await api(fixture, 'POST', '/admin/v1/users', { email: 'sponsor@example.com', teams: ['research'] });
    await api(fixture, 'POST', '/admin/v1/agents', {
      name: 'helper',
      team: 'research',
      sponsor: 'sponsor@example.com',
    });
    const approver = await createAdminToken(fixture.gatehouse, BOOTSTRAP, { role: 'approver' });
    const { cookie, csrf, response } = await signIn(fixture, approver.secret);
    expect(response.json()).toMatchObject({ role: 'approver' });
    const suspend = await fixture.app.inject({
      method: 'POST',
      url: '/admin/v1/agents/helper/suspend',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      payload: {},
    });
    expect(suspend.statusCode).toBe(403);
    expect(suspend.json()).toMatchObject({ code: 'forbidden' });
  });

  it('ends the session when its token is revoked', async () => {
    const auditor = await createAdminToken(fixture.gatehouse, BOOTSTRAP, { role: 'auditor' });
    const { cookie } = await signIn(fixture, auditor.secret);
    await api(fixture, 'DELETE', `/admin/v1/admin-tokens/${auditor.token.id}`);
    const after = await fixture.app.inject({ method: 'GET', url: '/admin/v1/agents', headers: { cookie } });
    expect(after.statusCode).toBe(401);
  });

  it('refuses a sign-in posted from another origin', async () => {
    const { response } = await signIn(fixture, fixture.admin, { origin: 'https://evil.example' });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'csrf_token_invalid' });
  });

  it('marks the cookie Secure when Gatehouse is served over https', async () => {
    await fixture.dispose();
    fixture = await createTestGatehouse({ config: { server: { publicUrl: 'https://gatehouse.test' } } });
    const { setCookie } = await signIn(fixture, fixture.admin);
    expect(setCookie).toContain('Secure');
  });

  it('serves the dashboard with a strict content security policy', async () => {
    const page = await fixture.app.inject({ method: 'GET', url: '/ui/' });
    expect([200, 503]).toContain(page.statusCode);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    const redirect = await fixture.app.inject({ method: 'GET', url: '/ui' });
    expect(redirect.statusCode).toBe(302);
  });
});
