import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import {
  classifyAddress,
  manifestAdmits,
  parseAbsoluteTarget,
  parseConnectTarget,
  readProxyCredentials,
  resolveDestination,
} from '../../src/gateway/egress/index.js';
import { routeUrl, withQueryParameter } from '../../src/gateway/egress/route-url.js';
import { maskSecrets, secretNeedles } from '../../src/gateway/egress/secret-masking.js';

describe('proxy credentials', () => {
  const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

  it('reads Bearer and Basic (token as password, session id as user name)', () => {
    expect(readProxyCredentials('Bearer abc.def.ghi')).toEqual({
      token: 'abc.def.ghi',
      sessionId: undefined,
    });
    expect(readProxyCredentials(basic('agent:abc.def'))).toEqual({ token: 'abc.def', sessionId: undefined });
    expect(readProxyCredentials(basic('ses_0a1b:abc.def'))).toEqual({
      token: 'abc.def',
      sessionId: 'ses_0a1b',
    });
    expect(readProxyCredentials(basic(':abc.def'))).toEqual({ token: 'abc.def', sessionId: undefined });
  });

  it('refuses what is missing or malformed', () => {
    for (const header of [
      undefined,
      '',
      'Bearer',
      'Bearer a b',
      'Digest x',
      basic('no-colon'),
      basic('u:'),
      basic('u:a b'),
    ]) {
      expect(readProxyCredentials(header)).toBeUndefined();
    }
  });
});

describe('egress targets', () => {
  it('normalises absolute-form targets the way WHATWG URL reads them', () => {
    expect(parseAbsoluteTarget('http://API.Example.com/a/../b?x=1')).toEqual({
      scheme: 'http',
      host: 'api.example.com',
      port: 80,
      path: '/b',
      query: 'x=1',
    });
    expect(parseAbsoluteTarget('http://0x7f.1:8080/')).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(parseAbsoluteTarget('http://[::FFFF:127.0.0.1]/')).toMatchObject({ host: '::ffff:7f00:1' });
    expect(parseAbsoluteTarget('http://example.com./')).toMatchObject({ host: 'example.com', path: '/' });
  });

  it.each([
    'http://a.com/x y',
    'http://a.com/\r\nX: 1',
    'http://a.com/%0d%0aX:%201',
    'http://a.com/%00',
    'http://a%0a.com/',
    'http://user:pw@a.com/',
    'http://@a.com/',
    'http://evil.com\\@a.com/',
    'https://a.com/',
    'ftp://a.com/',
    '/relative',
    'http:///a.com',
    'http://a.com:0/',
    'http://a.com:99999/',
    'http://ä.com/',
  ])('refuses %j', (raw) => {
    expect(() => parseAbsoluteTarget(raw)).toThrow(
      expect.objectContaining({ code: 'egress_target_invalid' }),
    );
  });

  it('reads CONNECT targets, port required', () => {
    expect(parseConnectTarget('Example.COM:443')).toEqual({
      scheme: 'tunnel',
      host: 'example.com',
      port: 443,
    });
    expect(parseConnectTarget('[::1]:8443')).toEqual({ scheme: 'tunnel', host: '::1', port: 8443 });
    for (const raw of [
      'example.com',
      'example.com:0',
      'example.com:65536',
      'a@b.com:443',
      'b.com:443/x',
      '[zz]:1',
      '::1:443',
    ]) {
      expect(() => parseConnectTarget(raw)).toThrow(
        expect.objectContaining({ code: 'egress_target_invalid' }),
      );
    }
  });
});

describe('destination addresses', () => {
  it.each([
    ['93.184.216.34', 'public'],
    ['2606:4700::1111', 'public'],
    ['127.0.0.1', 'private'],
    ['127.8.9.10', 'private'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['::1', 'private'],
    ['fd00::1', 'private'],
    ['::ffff:127.0.0.1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['169.254.169.254', 'restricted'],
    ['169.254.0.1', 'restricted'],
    ['fe80::1', 'restricted'],
    ['fd00:ec2::254', 'restricted'],
    ['100.100.100.200', 'restricted'],
    ['::ffff:169.254.169.254', 'restricted'],
    ['0.0.0.0', 'restricted'],
    ['::', 'restricted'],
    ['255.255.255.255', 'restricted'],
    ['224.0.0.1', 'restricted'],
    ['64:ff9b::a9fe:a9fe', 'restricted'],
    ['2002:a9fe:a9fe::1', 'restricted'],
    ['not-an-ip', 'restricted'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  const lookup = async (host: string) =>
    ({ 'intranet.corp': ['10.0.0.7'], 'meta.corp': ['169.254.169.254'], 'www.example': ['93.184.216.34'] })[
      host
    ] ?? [];

  it('allows public addresses, private ones only when allowed, restricted ones only for named hosts', async () => {
    const closed = { allowPrivateAddresses: false, allowPrivateHosts: [] };
    const open = { allowPrivateAddresses: true, allowPrivateHosts: [] };
    const named = { allowPrivateAddresses: false, allowPrivateHosts: ['*.corp'] };
    await expect(resolveDestination('www.example', closed, lookup)).resolves.toEqual(['93.184.216.34']);
    await expect(resolveDestination('intranet.corp', closed, lookup)).rejects.toMatchObject({
      code: 'egress_address_forbidden',
    });
    await expect(resolveDestination('intranet.corp', open, lookup)).resolves.toEqual(['10.0.0.7']);
    await expect(resolveDestination('meta.corp', open, lookup)).rejects.toMatchObject({
      code: 'egress_address_forbidden',
    });
    await expect(resolveDestination('meta.corp', named, lookup)).resolves.toEqual(['169.254.169.254']);
    await expect(resolveDestination('127.0.0.1', open, lookup)).resolves.toEqual(['127.0.0.1']);
    await expect(resolveDestination('nowhere.example', closed, lookup)).rejects.toMatchObject({
      code: 'egress_unreachable',
    });
  });
});

describe('manifest egress hosts', () => {
  it('matches hosts, wildcards (subdomains only) and ports', () => {
    const hosts = ['api.github.com', '*.pypi.org', 'internal.example:8443'];
    expect(manifestAdmits(hosts, 'api.github.com', 443)).toBe(true);
    expect(manifestAdmits(hosts, 'files.pypi.org', 443)).toBe(true);
    expect(manifestAdmits(hosts, 'pypi.org', 443)).toBe(false);
    expect(manifestAdmits(hosts, 'internal.example', 8443)).toBe(true);
    expect(manifestAdmits(hosts, 'internal.example', 443)).toBe(false);
    expect(manifestAdmits(hosts, 'github.com', 443)).toBe(false);
  });
});

describe('route URLs', () => {
  it('appends below the base path and keeps the query', () => {
    expect(routeUrl('https://api.example.com/v1', '/users?page=2').href).toBe(
      'https://api.example.com/v1/users?page=2',
    );
    expect(routeUrl('https://api.example.com/v1/', '').href).toBe('https://api.example.com/v1');
    expect(routeUrl('https://api.example.com', '//evil.example/x').host).toBe('api.example.com');
    expect(routeUrl('https://api.example.com/v1', '/a/../b').pathname).toBe('/v1/b');
  });

  it.each(['/../admin', '/%2e%2e/admin', '/a/../../x', '/a%0d%0aX:1', '/a b'])('refuses %j', (rest) => {
    expect(() => routeUrl('https://api.example.com/v1', rest)).toThrow(
      expect.objectContaining({ code: 'egress_target_invalid' }),
    );
  });

  it('sets a query credential, dropping the agent-supplied one and keeping the rest verbatim', () => {
    const url = new URL('https://api.example.com/v1/s?q=a+b&key=mine&Key=other');
    expect(withQueryParameter(url, 'key', 's3cr&t').search).toBe('?q=a+b&Key=other&key=s3cr%26t');
  });
});

describe('secret masking', () => {
  const secret = 'sk-live-0123456789';

  async function mask(chunks: string[]): Promise<string[]> {
    const stream = maskSecrets(secretNeedles([secret]));
    const out: string[] = [];
    stream.on('data', (chunk: Buffer) => out.push(chunk.toString()));
    const done = new Promise((resolve) => stream.on('end', resolve));
    for (const chunk of chunks) stream.write(chunk);
    stream.end();
    await done;
    return out;
  }

  it('masks a secret split across chunks, keeping the length', async () => {
    const out = (await mask(['{"echo":"sk-li', 've-01234', '56789","x":1}'])).join('');
    expect(out).toBe(`{"echo":"${'*'.repeat(secret.length)}","x":1}`);
  });

  it('masks URL-encoded forms and holds back only a possible prefix', async () => {
    const encoded = encodeURIComponent('a b/c+d=e');
    const stream = await mask([`x=${encoded}`]);
    expect(stream.join('')).toBe(`x=${encoded}`);
    const special = 'tok/with+plus';
    const masker = maskSecrets(secretNeedles([special]));
    const out: string[] = [];
    masker.on('data', (chunk: Buffer) => out.push(chunk.toString()));
    masker.write(
      `a=${encodeURIComponent(special)}&b=${new URLSearchParams({ v: special }).toString().slice(2)}`,
    );
    // An event that ends without a partial match is passed on at once (no waiting for the next chunk).
    expect(out.join('')).toBe(`a=${'*'.repeat(encodeURIComponent(special).length)}&b=${'*'.repeat(17)}`);
    const events = await mask(['data: hello\n\n', 'data: sk-']);
    expect(events[0]).toBe('data: hello\n\n');
  });
});

describe('egress configuration', () => {
  it('has safe defaults: proxy off, private addresses refused', () => {
    const { egress } = parseConfig({ dataDir: '/tmp/x' });
    expect(egress).toMatchObject({
      proxy: { enabled: false, host: '127.0.0.1', port: 7401 },
      allowPrivateAddresses: false,
      allowPrivateHosts: [],
      routes: [],
    });
  });

  it.each([
    [{ name: 'a', baseUrl: 'https://x.example', credential: { secret: 's' } }, 'header'],
    [
      { name: 'a', baseUrl: 'https://x.example', credential: { secret: 's', header: 'h', query: 'q' } },
      'header',
    ],
    [{ name: 'a', baseUrl: 'ftp://x.example', credential: { secret: 's', header: 'h' } }, 'http'],
    [
      { name: 'a', baseUrl: 'https://u:p@x.example', credential: { secret: 's', header: 'h' } },
      'credentials',
    ],
    [{ name: 'a', baseUrl: 'https://x.example', credential: { secret: 's', header: 'Host' } }, 'credential'],
    [{ name: 'a', baseUrl: 'https://x.example', credential: { secret: 's', header: 'a b' } }, 'header'],
  ])('refuses route %j', (route, message) => {
    expect(() => parseConfig({ dataDir: '/tmp/x', egress: { routes: [route] } })).toThrow(
      new RegExp(message),
    );
  });
});
