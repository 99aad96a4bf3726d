import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EgressFixture, startEgressFixture } from './egress-fixture.js';

let fx: EgressFixture;
let url: string;
/** Everything the agent received, for the leak scan at the end. */
const received: string[] = [];

beforeAll(async () => {
  fx = await startEgressFixture();
  url = fx.server.url;
}, 30_000);

afterAll(async () => {
  await fx?.close();
});

async function call(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; token?: string | null } = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const token = init.token === undefined ? await fx.fetcher.tokens.token() : init.token;
  const response = await fetch(`${url}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  received.push(text, JSON.stringify([...response.headers]));
  return { status: response.status, headers: response.headers, text };
}

/** A request exactly as written: fetch would resolve `..` before sending it. */
function rawGet(path: string, token: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const options = { host: hostname, port, path, headers: { authorization: `Bearer ${token}` } };
    const request = httpRequest(options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        received.push(text);
        resolve({ status: response.statusCode ?? 0, text });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

describe('credentialed egress routes', () => {
  it('injects the credential in a header, drops the agent token, and masks the key in what comes back', async () => {
    const before = fx.api.seen.length;
    const response = await call('/egress/echo/items?page=2', { headers: { 'x-api-key': 'agent-supplied' } });
    expect(response.status).toBe(200);
    const seen = fx.api.seen[before];
    expect(seen?.url).toBe('/v1/items?page=2');
    expect(seen?.headers['x-api-key']).toBe(fx.apiKey);
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.headers.host).toBe(`127.0.0.1:${fx.api.port}`);
    // The stand-in echoes the key in a header and in its body: the agent sees stars of the same length.
    expect(response.text).not.toContain(fx.apiKey);
    expect(response.headers.get('x-echo-auth')).toBe('*'.repeat(fx.apiKey.length));
    expect(response.text).toContain('*'.repeat(fx.apiKey.length));
  });

  it('injects the credential as a query parameter, replacing one the agent sent', async () => {
    const before = fx.api.seen.length;
    const response = await call('/egress/echoq/search?q=a+b&key=mine');
    expect(response.status).toBe(200);
    expect(fx.api.seen[before]?.url).toBe(`/v1/search?q=a+b&key=${fx.apiKey}`);
    expect(response.text).not.toContain(fx.apiKey);
  });

  it('injects an Authorization header with its prefix', async () => {
    const before = fx.api.seen.length;
    expect((await call('/egress/bearer')).status).toBe(200);
    expect(fx.api.seen[before]?.url).toBe('/v1');
    expect(fx.api.seen[before]?.headers.authorization).toBe(`Bearer ${fx.apiKey}`);
  });

  it('streams bodies both ways', async () => {
    const before = fx.api.seen.length;
    const upload = JSON.stringify({ data: 'y'.repeat(200_000) });
    const posted = await call('/egress/echo/upload', {
      method: 'POST',
      body: upload,
      headers: { 'content-type': 'application/json' },
    });
    expect(posted.status).toBe(200);
    expect(fx.api.seen[before]?.body).toBe(upload);

    const token = await fx.fetcher.tokens.token();
    const held = await fetch(`${url}/egress/echo/hold`, { headers: { authorization: `Bearer ${token}` } });
    const reader = (held.body as ReadableStream<Uint8Array>).getReader();
    expect(Buffer.from((await reader.read()).value ?? []).toString()).toBe('data: first\n\n');
    fx.api.release();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      rest += Buffer.from(chunk.value).toString();
    }
    expect(rest).toBe('data: second\n\n');
  });

  it('decides each request as http.request with the route, and refuses what policy denies', async () => {
    const before = fx.api.seen.length;
    const denied = await call('/egress/forbidden/anything');
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.text)).toMatchObject({
      code: 'policy_denied',
      details: { ruleIds: ['no-forbidden-route'], decision: 'policy_denied' },
    });
    expect(fx.api.seen.length).toBe(before);
    const entries = await fx.auditUntil(
      'egress.request.completed',
      (entry) => entry.details.route === 'forbidden',
    );
    expect(entries.find((entry) => entry.details.route === 'forbidden')?.details).toMatchObject({
      status: 403,
      code: 'policy_denied',
      host: '127.0.0.1',
      path: '/v1/anything',
    });
  });

  it('follows trajectory rules: after reads:secret, routes outside the allowlist are refused', async () => {
    const session = await fx.session(fx.fetcher);
    expect((await call('/egress/echo/x', { headers: { 'gatehouse-session': session } })).status).toBe(200);
    await fx.readSecret(fx.fetcher, session);
    const denied = await call('/egress/echo/x', { headers: { 'gatehouse-session': session } });
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.text)).toMatchObject({ details: { ruleIds: ['no-secret-egress'] } });
  });

  it('refuses unknown routes, missing or admin tokens, and paths that climb out of the base path', async () => {
    const unknown = await call('/egress/nope/x');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ code: 'egress_route_not_found' });
    const anonymous = await call('/egress/echo/x', { token: null });
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.text)).toMatchObject({ code: 'invalid_token' });
    const admin = await call('/egress/echo/x', { token: fx.adminToken });
    expect(admin.status).toBe(401);
    const before = fx.api.seen.length;
    const token = await fx.fetcher.tokens.token();
    for (const path of [
      '/egress/echo/../../admin',
      '/egress/echo/%2e%2e/secret',
      '/egress/echo/a%0d%0aX-Evil:%201',
    ]) {
      const response = await rawGet(path, token);
      expect({ path, status: response.status }).toEqual({ path, status: 400 });
      expect(JSON.parse(response.text)).toMatchObject({ code: 'egress_target_invalid' });
    }
    expect(fx.api.seen.length).toBe(before);
  });

  it('answers 504 when the upstream is silent past the route timeout', async () => {
    const slow = await call('/egress/slow/silent');
    expect(slow.status).toBe(504);
    expect(JSON.parse(slow.text)).toMatchObject({ code: 'egress_timeout' });
  });

  it('never lets the credential reach the agent, the logs or the audit log', async () => {
    const entries = await fx.server.gatehouse.store.audit.list(0, 100_000);
    const haystacks = [...received, ...fx.logs, JSON.stringify(entries)];
    const encoded = encodeURIComponent(fx.apiKey);
    for (const text of haystacks) {
      expect(text.includes(fx.apiKey) || text.includes(encoded)).toBe(false);
    }
    expect(received.length).toBeGreaterThan(10);
    expect(entries.some((entry) => entry.action === 'egress.request.completed')).toBe(true);
  });
});
