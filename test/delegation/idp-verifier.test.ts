import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIdpVerifier } from '../../src/identity/oidc/index.js';
import { systemClock } from '../../src/lib/clock.js';
import { codeOf } from '../support/errors.js';

// A bare-bones IdP (discovery + JWKS over real HTTP) whose keys the test rotates.
describe('users from an OpenID Connect issuer: discovery, key cache, rotation', () => {
  let server: Server;
  let issuer: string;
  let keys: JWK[];
  let discoveryIssuer: string | undefined;
  let fetches: string[];

  beforeEach(async () => {
    keys = [];
    fetches = [];
    discoveryIssuer = undefined;
    server = createServer((req, res) => {
      fetches.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') {
        res.end(JSON.stringify({ issuer: discoveryIssuer ?? issuer, jwks_uri: `${issuer}/keys` }));
      } else if (req.url === '/keys') {
        res.end(JSON.stringify({ keys }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  const newKey = async (kid: string) => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    keys.push({ ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' });
    return (claims: Record<string, unknown>) =>
      new SignJWT({ sub: 'alice', email: 'alice@acme.example', groups: ['support'], ...claims })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setIssuer(issuer)
        .setAudience('gatehouse')
        .setExpirationTime('5m')
        .sign(pair.privateKey);
  };
  const verifier = () =>
    createIdpVerifier({
      issuers: [{ issuer, audience: 'gatehouse', usernameClaim: 'email', groupsClaim: 'groups' }],
      clock: systemClock,
      clockSkewMs: 0,
      cacheTtlMs: 60_000,
      jwksCooldownMs: 0,
    });

  it('fetches discovery and keys once, then verifies from the cache', async () => {
    const sign = await newKey('k1');
    const idp = verifier();
    expect(await idp.verify(await sign({}))).toMatchObject({
      issuer,
      subject: 'alice',
      username: 'alice@acme.example',
      email: 'alice@acme.example',
      groups: ['support'],
    });
    await idp.verify(await sign({}));
    expect(fetches).toEqual(['/.well-known/openid-configuration', '/keys']);
  });

  it('follows a key rotation: an unknown kid refetches the key set', async () => {
    const first = await newKey('k1');
    const idp = verifier();
    await idp.verify(await first({}));
    const second = await newKey('k2');
    keys.shift();
    expect((await idp.verify(await second({}))).username).toBe('alice@acme.example');
    expect(fetches.filter((url) => url === '/keys')).toHaveLength(2);
    expect(await codeOf(idp.verify(await first({})))).toBe('invalid_token');
  });

  it('refuses a discovery document for another issuer, and reports an unreachable IdP as idp_unavailable', async () => {
    const sign = await newKey('k1');
    discoveryIssuer = 'https://impostor.example';
    expect(await codeOf(verifier().verify(await sign({})))).toBe('idp_unavailable');
    discoveryIssuer = undefined;
    const token = await sign({});
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.listen(0);
    expect(await codeOf(verifier().verify(token))).toBe('idp_unavailable');
  });

  it('needs the username claim', async () => {
    const sign = await newKey('k1');
    expect(await codeOf(verifier().verify(await sign({ email: undefined })))).toBe('invalid_token');
  });
});
