import { randomUUID } from 'node:crypto';
import { base64url, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyStoredAudit } from '../src/audit/index.js';
import { api, createTestGatehouse, type TestGatehouse } from './support/gatehouse.js';

// The whole stack, real audit chain included: every attack is refused with its code, issues nothing, burns nothing,
// is audited as a rejection, and leaves the chain verifiable.
describe('token endpoint under attack (full app, real audit chain)', () => {
  let fx: TestGatehouse;
  let agentId: string;
  let privateJwk: Record<string, unknown>;
  let publicJwk: Record<string, unknown>;
  let otherPrivateJwk: Record<string, unknown>;
  const audience = 'http://gatehouse.test/oauth/token';

  beforeEach(async () => {
    fx = await createTestGatehouse();
    await api(fx, 'POST', '/admin/v1/teams', { name: 'payments' });
    await api(fx, 'POST', '/admin/v1/users', { email: 'alice@example.com', teams: ['payments'] });
    const bot = await api(fx, 'POST', '/admin/v1/agents', {
      name: 'bot',
      team: 'payments',
      sponsor: 'alice@example.com',
    });
    agentId = bot.body.agent.id;
    privateJwk = bot.body.credentials.privateJwk;
    publicJwk = bot.body.key.publicJwk;
    const other = await api(fx, 'POST', '/admin/v1/agents', {
      name: 'other',
      team: 'payments',
      sponsor: 'alice@example.com',
    });
    otherPrivateJwk = other.body.credentials.privateJwk;
  });
  afterEach(async () => fx.dispose());

  const assertion = async (
    jwk: Record<string, unknown>,
    claims: { iss?: string; sub?: string; aud?: string; exp?: string | number; jti?: string | null } = {},
  ) => {
    const jwt = new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(claims.iss ?? agentId)
      .setSubject(claims.sub ?? agentId)
      .setAudience(claims.aud ?? audience)
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? '60s');
    if (claims.jti !== null) jwt.setJti(claims.jti ?? randomUUID());
    return jwt.sign(await importJWK(jwk, 'EdDSA'));
  };

  const requestToken = (clientAssertion: string) =>
    fx.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: clientAssertion,
      }).toString(),
    });

  const unsigned = (alg: string) =>
    `${base64url.encode(JSON.stringify({ alg, typ: 'JWT' }))}.${base64url.encode(
      JSON.stringify({
        iss: agentId,
        sub: agentId,
        aud: audience,
        exp: Math.floor(Date.now() / 1000) + 60,
        jti: randomUUID(),
      }),
    )}`;

  const attacks: [string, () => Promise<string>, string][] = [
    [
      'expired assertion',
      () => assertion(privateJwk, { exp: Math.floor(Date.now() / 1000) - 120 }),
      'invalid_client_assertion',
    ],
    ["another agent's key", () => assertion(otherPrivateJwk), 'invalid_client_assertion'],
    ['alg none', async () => `${unsigned('none')}.`, 'invalid_client_assertion'],
    [
      'HS256 keyed with the public key',
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
        return new SignJWT({ jti: randomUUID() })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(agentId)
          .setSubject(agentId)
          .setAudience(audience)
          .setExpirationTime('60s')
          .sign(secret);
      },
      'invalid_client_assertion',
    ],
    [
      'wrong audience',
      () => assertion(privateJwk, { aud: 'https://evil.example/oauth/token' }),
      'invalid_client_assertion',
    ],
    [
      'iss differs from sub',
      () => assertion(privateJwk, { iss: 'agt_someoneelse' }),
      'invalid_client_assertion',
    ],
    ['no jti', () => assertion(privateJwk, { jti: null }), 'invalid_client_assertion'],
    [
      'a stranger key',
      async () =>
        exportJWK((await generateKeyPair('EdDSA', { extractable: true })).privateKey).then((k) =>
          assertion(k as never),
        ),
      'invalid_client_assertion',
    ],
  ];

  it.each(attacks)('%s', async (_name, build, code) => {
    const before = await fx.gatehouse.store.audit.count();
    const response = await requestToken(await build());
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code, error: 'invalid_client' });
    await fx.gatehouse.audit.flush();
    const entries = await fx.gatehouse.store.audit.list(0, 1000);
    expect(entries.filter((entry) => entry.action === 'token.issued')).toHaveLength(0);
    expect(entries.slice(before).map((entry) => entry.action)).toEqual(['client_assertion.rejected']);
    const report = await verifyStoredAudit({
      store: fx.gatehouse.store,
      jwks: await fx.gatehouse.keyring.auditJwks(),
    });
    expect(report.ok).toBe(true);
  });

  it('a replayed assertion is refused after its first use', async () => {
    const once = await assertion(privateJwk);
    expect((await requestToken(once)).statusCode).toBe(200);
    const replay = await requestToken(once);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('assertion_replayed');
  });

  it('a suspended agent gets no token and its live token stops working; resumed, it works again', async () => {
    const token = (await requestToken(await assertion(privateJwk))).json().access_token as string;
    const me = () =>
      fx.app.inject({ method: 'GET', url: '/agent/v1/me', headers: { authorization: `Bearer ${token}` } });
    expect((await me()).statusCode).toBe(200);
    await api(fx, 'POST', `/admin/v1/agents/${agentId}/suspend`, { reason: 'test' });
    expect((await me()).statusCode).toBe(401);
    const refused = await requestToken(await assertion(privateJwk));
    expect(refused.json()).toMatchObject({ code: 'agent_inactive', error: 'invalid_client' });
    await api(fx, 'POST', `/admin/v1/agents/${agentId}/resume`);
    expect((await me()).statusCode).toBe(200);
    await api(fx, 'POST', `/admin/v1/agents/${agentId}/retire`);
    expect((await me()).statusCode).toBe(401);
  });
});
