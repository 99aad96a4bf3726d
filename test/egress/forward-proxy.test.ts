import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fetch, ProxyAgent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEgressProxy } from '../../src/gateway/egress/index.js';
import { type EgressFixture, startEgressFixture } from './egress-fixture.js';
import { basicAuth, curl, parseRaw, rawExchange } from './proxy-client.js';

const hasCurl = (() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let fx: EgressFixture;

beforeAll(async () => {
  fx = await startEgressFixture();
}, 30_000);

afterAll(async () => {
  await fx?.close();
});

async function proxyFor(
  who: 'fetcher' | 'roamer',
  options: { tunnel?: boolean; headers?: Record<string, string>; basicUser?: string } = {},
): Promise<ProxyAgent> {
  const token = await fx[who].tokens.token();
  const uri = options.basicUser
    ? fx.proxyUrl.replace('http://', `http://${options.basicUser}:${token}@`)
    : fx.proxyUrl;
  return new ProxyAgent({
    uri,
    ...(options.basicUser ? {} : { token: `Bearer ${token}` }),
    proxyTunnel: options.tunnel ?? false,
    requestTls: { ca: fx.tls.ca },
    ...(options.headers ? { headers: options.headers } : {}),
  });
}

describe('forward proxy with undici ProxyAgent', () => {
  it('forwards an allowed absolute-form request and strips proxy credentials and hop-by-hop headers', async () => {
    const dispatcher = await proxyFor('fetcher');
    const before = fx.api.seen.length;
    const response = await fetch(`http://localhost:${fx.api.port}/hello?x=1`, {
      dispatcher,
      headers: { 'x-custom': 'kept' },
    });
    expect(response.status).toBe(200);
    const echoed = (await response.json()) as { url: string; headers: Record<string, string> };
    expect(echoed.url).toBe('/hello?x=1');
    expect(echoed.headers.host).toBe(`localhost:${fx.api.port}`);
    expect(echoed.headers['x-custom']).toBe('kept');
    expect(echoed.headers['proxy-authorization']).toBeUndefined();
    expect(fx.api.seen.length).toBe(before + 1);
    await dispatcher.close();

    // fetch will not send Connection or Proxy-Connection itself: speak HTTP directly.
    const token = await fx.fetcher.tokens.token();
    const session = await fx.session(fx.fetcher);
    const raw = parseRaw(
      await rawExchange(
        fx.proxyUrl,
        `GET http://localhost:${fx.api.port}/hop HTTP/1.1\r\nHost: elsewhere.example\r\n` +
          `Proxy-Authorization: Bearer ${token}\r\nProxy-Connection: keep-alive\r\nGatehouse-Session: ${session}\r\n` +
          'Connection: close, x-drop-me\r\nX-Drop-Me: hop\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nX-Kept: yes\r\n\r\n',
      ),
    );
    expect(raw.status).toBe(200);
    const headers = (raw.body as { headers: Record<string, string> }).headers;
    expect(headers).toMatchObject({ host: `localhost:${fx.api.port}`, 'x-kept': 'yes', connection: 'close' });
    for (const name of [
      'proxy-authorization',
      'proxy-connection',
      'gatehouse-session',
      'x-drop-me',
      'keep-alive',
      'te',
    ]) {
      expect(headers[name]).toBeUndefined();
    }
  });

  it('streams request and response bodies both ways without buffering', async () => {
    const dispatcher = await proxyFor('fetcher');
    const upload = 'x'.repeat(1024 * 1024);
    const posted = await fetch(`http://localhost:${fx.api.port}/upload`, {
      dispatcher,
      method: 'POST',
      body: upload,
    });
    expect(((await posted.json()) as { bodyLength: number }).bodyLength).toBe(upload.length);

    // The stand-in sends one event and waits; a proxy that buffered the response would never deliver it.
    const held = await fetch(`http://localhost:${fx.api.port}/hold`, { dispatcher });
    const reader = (held.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value ?? []).toString()).toBe('data: first\n\n');
    fx.api.release();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      rest += Buffer.from(chunk.value).toString();
    }
    expect(rest).toBe('data: second\n\n');
    await dispatcher.close();
  });

  it('refuses a host policy does not allow with 403, code and rule ids, and audits both entries', async () => {
    const dispatcher = await proxyFor('fetcher');
    const before = fx.api.seen.length;
    const response = await fetch('http://blocked.example.test/secret-plans', { dispatcher });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      code: 'policy_denied',
      reason: expect.any(String),
      ruleIds: [],
      decision: 'no_matching_rule',
    });
    expect(fx.api.seen.length).toBe(before);
    const entries = await fx.auditUntil(
      'egress.request.completed',
      (entry) => entry.details.host === 'blocked.example.test',
    );
    const decided = entries.filter((entry) => entry.action === 'egress.request.decided');
    expect(decided.at(-1)?.details).toMatchObject({
      tool: 'http.request',
      effect: 'deny',
      code: 'no_matching_rule',
    });
    const completed = entries.find(
      (entry) => entry.action === 'egress.request.completed' && entry.details.host === 'blocked.example.test',
    );
    expect(completed?.details).toMatchObject({ status: 403, code: 'policy_denied', method: 'GET', port: 80 });
    await dispatcher.close();
  });

  it('audits the outcome of an allowed request with status, bytes and duration', async () => {
    const dispatcher = await proxyFor('fetcher');
    await (
      await fetch(`http://localhost:${fx.api.port}/audited`, { dispatcher, method: 'POST', body: 'hello' })
    ).text();
    const entries = await fx.auditUntil(
      'egress.request.completed',
      (entry) => entry.details.path === '/audited',
    );
    const completed = entries.find((entry) => entry.details.path === '/audited');
    expect(completed?.actor).toBe(`agent:${fx.fetcher.id}`);
    expect(completed?.details).toMatchObject({
      status: 200,
      bytesSent: 5,
      host: 'localhost',
      scheme: 'http',
    });
    expect(completed?.details.bytesReceived).toBeGreaterThan(0);
    expect(typeof completed?.details.durationMs).toBe('number');
    await dispatcher.close();
  });

  it('answers 502 when the destination refuses the connection', async () => {
    const dispatcher = await proxyFor('fetcher');
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const response = await fetch(`http://127.0.0.1:${closed}/`, { dispatcher });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ code: 'egress_unreachable' });
    await dispatcher.close();
  });

  it('refuses a host the manifest does not declare before policy', async () => {
    const dispatcher = await proxyFor('fetcher');
    const response = await fetch('http://undeclared.invalid/', { dispatcher });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'egress_host_not_in_manifest', ruleIds: [] });
    await dispatcher.close();
  });

  it('tunnels CONNECT to a local TLS server when the host is allowed, and refuses other hosts', async () => {
    const dispatcher = await proxyFor('fetcher', { tunnel: true });
    const response = await fetch(`https://localhost:${fx.tls.port}/over-tls`, { dispatcher });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { url: string }).url).toBe('/over-tls');
    const refused = await fetch(`https://blocked.example.test:${fx.tls.port}/`, { dispatcher }).catch(
      (error: Error) => error,
    );
    expect(refused).toBeInstanceOf(Error);
    await dispatcher.close();

    const token = await fx.fetcher.tokens.token();
    const raw = parseRaw(
      await rawExchange(
        fx.proxyUrl,
        `CONNECT blocked.example.test:443 HTTP/1.1\r\nHost: blocked.example.test:443\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`,
      ),
    );
    expect(raw.status).toBe(403);
    expect(raw.body).toMatchObject({ code: 'policy_denied', decision: 'no_matching_rule' });
  });

  it('after reads:secret, refuses egress outside the allowlist in that session only', async () => {
    const session = await fx.session(fx.fetcher);
    const tunnel = await proxyFor('fetcher', { tunnel: true, basicUser: session });
    const plain = await proxyFor('fetcher', { headers: { 'gatehouse-session': session } });
    const outside = `https://127.0.0.1:${fx.tls.port}/outside`;
    expect((await fetch(outside, { dispatcher: tunnel })).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${fx.api.port}/outside`, { dispatcher: plain })).status).toBe(200);

    await fx.readSecret(fx.fetcher, session);
    // A tunnel is decided when it opens: the open one is closed so the next request must CONNECT again.
    await tunnel.close();
    const tunnelAfter = await proxyFor('fetcher', { tunnel: true, basicUser: session });

    const denied = await fetch(`http://127.0.0.1:${fx.api.port}/outside`, { dispatcher: plain });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ code: 'policy_denied', ruleIds: ['no-secret-egress'] });
    const tunnelDenied = await fetch(outside, { dispatcher: tunnelAfter }).catch((error: Error) => error);
    expect(tunnelDenied).toBeInstanceOf(Error);
    // The allowlist still works in the tainted session, and other sessions are untouched.
    expect((await fetch(`https://localhost:${fx.tls.port}/inside`, { dispatcher: tunnelAfter })).status).toBe(
      200,
    );
    const other = await proxyFor('fetcher');
    expect((await fetch(`http://127.0.0.1:${fx.api.port}/outside`, { dispatcher: other })).status).toBe(200);
    const entries = await fx.auditUntil(
      'egress.request.decided',
      (entry) => entry.target === `session:${session}`,
    );
    expect(
      entries.some((entry) => entry.target === `session:${session}` && entry.details.effect === 'deny'),
    ).toBe(true);
    await Promise.all([tunnelAfter.close(), plain.close(), other.close()]);
  });

  it('answers 407 with Proxy-Authenticate without credentials, with a bad token, and with an admin token', async () => {
    for (const authorization of [undefined, 'Bearer not-a-token', `Bearer ${fx.adminToken}`, 'Basic !!!']) {
      const raw = await rawExchange(
        fx.proxyUrl,
        `GET http://localhost:${fx.api.port}/ HTTP/1.1\r\nHost: localhost:${fx.api.port}\r\n` +
          `${authorization ? `Proxy-Authorization: ${authorization}\r\n` : ''}Connection: close\r\n\r\n`,
      );
      const { status, body } = parseRaw(raw);
      expect(status).toBe(407);
      expect(raw).toMatch(/\r\nproxy-authenticate: Bearer realm="gatehouse"\r\n/i);
      expect(raw).toMatch(/\r\nproxy-authenticate: Basic realm="gatehouse"\r\n/i);
      expect(body).toMatchObject({ code: 'proxy_auth_required' });
    }
    const connect = parseRaw(
      await rawExchange(fx.proxyUrl, `CONNECT localhost:${fx.tls.port} HTTP/1.1\r\nHost: localhost\r\n\r\n`),
    );
    expect(connect.status).toBe(407);
    // Basic credentials carry the token as the password; the user name is free (or a session id).
    const token = await fx.fetcher.tokens.token();
    const basic = parseRaw(
      await rawExchange(
        fx.proxyUrl,
        `GET http://localhost:${fx.api.port}/basic HTTP/1.1\r\nHost: localhost\r\n` +
          `Proxy-Authorization: ${basicAuth('anything', token)}\r\nConnection: close\r\n\r\n`,
      ),
    );
    expect(basic.status).toBe(200);
    // undici turns a 407 into an error of its own.
    const dispatcher = new ProxyAgent({ uri: fx.proxyUrl, proxyTunnel: false });
    const refused = await fetch(`http://localhost:${fx.api.port}/`, { dispatcher }).catch(
      (error: Error) => error,
    );
    expect(String((refused as Error).cause)).toMatch(/407/);
    await dispatcher.close();
  });

  it('refuses header injection and malformed targets with 400 before anything is sent', async () => {
    const token = await fx.fetcher.tokens.token();
    const before = fx.api.seen.length;
    const api = `localhost:${fx.api.port}`;
    const attempts = [
      `GET http://${api}/a%0d%0aSet-Cookie:%20x=1 HTTP/1.1`,
      `GET http://${api}/a%0AX-Injected:%201 HTTP/1.1`,
      `GET http://local%0d%0ahost:${fx.api.port}/ HTTP/1.1`,
      `GET http://user@${api}/ HTTP/1.1`,
      `GET http://evil.example\\@${api}/ HTTP/1.1`,
      `GET /origin-form HTTP/1.1`,
      `GET https://${api}/ HTTP/1.1`,
      `GET ftp://${api}/ HTTP/1.1`,
      `GET http://${api}/a\rb HTTP/1.1`,
      `CONNECT ${api}/path HTTP/1.1`,
      `CONNECT user@${api} HTTP/1.1`,
      `CONNECT localhost HTTP/1.1`,
      `CONNECT localhost:99999 HTTP/1.1`,
    ];
    for (const line of attempts) {
      const raw = await rawExchange(
        fx.proxyUrl,
        `${line}\r\nHost: ${api}\r\nProxy-Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
      );
      const { status, body } = parseRaw(raw);
      expect({ line, status }).toEqual({ line, status: 400 });
      expect(body).toMatchObject({ code: 'egress_target_invalid' });
    }
    // A line break in a header value never reaches a handler: Node's parser refuses it.
    const split = parseRaw(
      await rawExchange(
        fx.proxyUrl,
        `GET http://${api}/ HTTP/1.1\r\nHost: ${api}\r\nX-Evil: a\rb\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`,
      ),
    );
    expect(split.status).toBe(400);
    expect(fx.api.seen.length).toBe(before);
  });

  it('refuses loopback, link-local, metadata, private and mapped addresses unless allowed', async () => {
    const dispatcher = await proxyFor('roamer');
    const port = fx.api.port;
    for (const url of [
      `http://127.0.0.2:${port}/`,
      'http://169.254.169.254/latest/meta-data/',
      `http://[::1]:${port}/`,
      `http://0.0.0.0:${port}/`,
      'http://10.0.0.1/',
      `http://[::ffff:127.0.0.1]:${port}/`,
    ]) {
      const response = await fetch(url, { dispatcher });
      expect({ url, status: response.status }).toEqual({ url, status: 403 });
      expect(await response.json()).toMatchObject({ code: 'egress_address_forbidden' });
    }
    const token = await fx.roamer.tokens.token();
    const tunnel = parseRaw(
      await rawExchange(
        fx.proxyUrl,
        `CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: 169.254.169.254:80\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`,
      ),
    );
    expect(tunnel.status).toBe(403);
    expect(tunnel.body).toMatchObject({ code: 'egress_address_forbidden' });
    // `localhost` and `127.0.0.1` are in egress.allowPrivateHosts: the same loopback server is reachable by them.
    const fetcher = await proxyFor('fetcher');
    expect((await fetch(`http://127.0.0.1:${port}/allowed`, { dispatcher: fetcher })).status).toBe(200);
    await Promise.all([dispatcher.close(), fetcher.close()]);
  });

  it('checks resolved addresses and connects to the very address it checked', async () => {
    const lookups: string[] = [];
    const answers: Record<string, string[]> = {
      'metadata.example.test': ['169.254.169.254'],
      'mixed.example.test': ['93.184.216.34', '10.0.0.5'],
      'rebind.example.test': ['127.0.0.1'],
    };
    const proxy = await startEgressProxy(fx.server.gatehouse, {
      host: '127.0.0.1',
      port: 0,
      lookup: async (host) => {
        lookups.push(host);
        const found = answers[host];
        if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
        // A rebinding resolver: the next answer would point somewhere else.
        if (host === 'rebind.example.test') answers[host] = ['169.254.169.254'];
        return found;
      },
    });
    try {
      const token = await fx.roamer.tokens.token();
      const dispatcher = new ProxyAgent({ uri: proxy.url, token: `Bearer ${token}`, proxyTunnel: false });
      const metadata = await fetch('http://metadata.example.test/latest/meta-data/', { dispatcher });
      expect(metadata.status).toBe(403);
      expect(await metadata.json()).toMatchObject({ code: 'egress_address_forbidden' });
      const mixed = await fetch('http://mixed.example.test/', { dispatcher });
      expect(mixed.status).toBe(403);
      const missing = await fetch('http://nxdomain.example.test/', { dispatcher });
      expect(missing.status).toBe(502);
      expect(await missing.json()).toMatchObject({ code: 'egress_unreachable' });
      const before = fx.api.seen.length;
      const rebind = await fetch(`http://rebind.example.test:${fx.api.port}/rebind`, { dispatcher });
      expect(rebind.status).toBe(200);
      expect(fx.api.seen[before]?.headers.host).toBe(`rebind.example.test:${fx.api.port}`);
      expect(lookups.filter((host) => host === 'rebind.example.test')).toHaveLength(1);
      // Policy refuses before any lookup: a denied name is never sent to the resolver (no DNS exfiltration).
      const agentDenied = await new ProxyAgent({
        uri: proxy.url,
        token: `Bearer ${await fx.fetcher.tokens.token()}`,
        proxyTunnel: false,
      });
      expect((await fetch('http://leak-data.example.test/', { dispatcher: agentDenied })).status).toBe(403);
      expect(lookups).not.toContain('leak-data.example.test');
      await Promise.all([dispatcher.close(), agentDenied.close()]);
    } finally {
      await proxy.close();
    }
  });
});

describe.skipIf(!hasCurl)('forward proxy with curl -x', () => {
  it('forwards plain HTTP with the token as proxy password, and tunnels HTTPS', async () => {
    const token = await fx.fetcher.tokens.token();
    const plain = await curl([
      '-x',
      fx.proxyUrl,
      '--proxy-user',
      `agent:${token}`,
      `http://localhost:${fx.api.port}/curl`,
    ]);
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ url: '/curl' });
    const tls = await curl([
      '-x',
      fx.proxyUrl,
      '--proxy-header',
      `Proxy-Authorization: Bearer ${token}`,
      '--cacert',
      fx.tls.caFile,
      `https://localhost:${fx.tls.port}/curl-tls`,
    ]);
    expect(tls.code).toBe(0);
    expect(JSON.parse(tls.stdout)).toMatchObject({ url: '/curl-tls' });
  });

  it('shows curl the refusals: 403 for other hosts, 407 without credentials', async () => {
    const token = await fx.fetcher.tokens.token();
    const denied = await curl([
      '-x',
      fx.proxyUrl,
      '--proxy-user',
      `agent:${token}`,
      '-w',
      '\n%{http_code}',
      'http://blocked.example.test/',
    ]);
    const lines = denied.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('403');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ code: 'policy_denied' });
    const tunnel = await curl([
      '-x',
      fx.proxyUrl,
      '--proxy-user',
      `agent:${token}`,
      '-w',
      '%{http_connect}',
      'https://blocked.example.test/',
    ]);
    expect(tunnel.code).not.toBe(0);
    expect(tunnel.stdout).toBe('403');
    const anonymous = await curl([
      '-x',
      fx.proxyUrl,
      '-w',
      '%{http_code}',
      '-o',
      '/dev/null',
      `http://localhost:${fx.api.port}/`,
    ]);
    expect(anonymous.stdout).toBe('407');
  });
});
