import { generateKeyPairSync } from 'node:crypto';
import { base64url, decodeJwt, exportJWK, generateKeyPair, importJWK, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintCapability, redeemCapability } from '../../src/capabilities/index.js';
import { createDelegationFixture, type DelegationFixture, ID_TOKEN } from './support/delegation-fixture.js';

/**
 * The JWT attack suite of issue 5. Each forged token is presented where Gatehouse accepts tokens from others — as
 * the `subject_token` of a token exchange, in both flavours Gatehouse trusts (a token of the company IdP, and a
 * Gatehouse token) — and must be refused with its code, issue nothing, and leave an audit entry naming the reason.
 */
describe('JWT attack suite', () => {
  let f: DelegationFixture;
  let deep: DelegationFixture;
  let gatehouseJwk: Record<string, unknown> & { kid: string };
  let idpKey: Awaited<ReturnType<typeof importJWK>>;

  beforeAll(async () => {
    [f, deep] = await Promise.all([createDelegationFixture(), createDelegationFixture({ maxChainDepth: 2 })]);
    const jwks = await f.fx.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    gatehouseJwk = jwks.json().keys[0];
    idpKey = await importJWK(f.idp.signingJwk, 'RS256');
  });
  afterAll(async () => Promise.all([f?.close(), deep?.close()]));

  const now = () => Math.floor(Date.now() / 1000);
  /** Claims of a good company-IdP ID token for alice. */
  const idpClaims = (): JWTPayload => ({
    iss: f.idp.issuer,
    sub: 'alice',
    aud: f.idp.clientId,
    email: 'alice@acme.example',
    iat: now(),
    exp: now() + 300,
  });
  /** Claims of a good Gatehouse token of the planner acting for itself. */
  const gatehouseClaims = (): JWTPayload => ({
    iss: 'http://gatehouse.test',
    sub: f.agents.planner.id,
    client_id: f.agents.planner.id,
    aud: 'gatehouse',
    iat: now(),
    exp: now() + 300,
    jti: `at_${Math.random().toString(36).slice(2)}`,
  });
  const signIdp = (claims: JWTPayload, header: Record<string, unknown> = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: f.idp.signingJwk.kid, ...header })
      .sign(idpKey);
  const signGatehouse = (claims: JWTPayload) => f.fx.gatehouse.keyring.signJwt(claims, { typ: 'at+jwt' });
  const unsigned = (header: Record<string, unknown>, claims: JWTPayload) =>
    `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}.`;
  const swapPayload = (token: string, edit: (claims: JWTPayload) => JWTPayload) => {
    const [header, , signature] = token.split('.');
    return `${header}.${base64url.encode(JSON.stringify(edit(decodeJwt(token))))}.${signature}`;
  };

  /** Presents the token as subject_token (the planner as actor) and checks the refusal and its audit entry. */
  const expectRejected = async (
    subjectToken: string,
    expected: { code: string; reason?: string; status?: number },
    fixture: DelegationFixture = f,
    actor = fixture.agents.planner,
    extra: Record<string, string> = {},
  ) => {
    const before = await fixture.auditHead();
    const response = await fixture.exchange(actor, subjectToken, { subject_token_type: ID_TOKEN, ...extra });
    expect(response.status, JSON.stringify(response.body)).toBe(expected.status ?? 401);
    expect(response.body.code).toBe(expected.code);
    expect(response.body.access_token).toBeUndefined();
    const audit = await fixture.auditSince(before);
    expect(audit.map((entry) => entry.action)).toEqual(['token_exchange.rejected']);
    expect(audit[0]?.details).toMatchObject({
      code: expected.code,
      claimedAgentId: actor.id,
      ...(expected.reason ? { reason: expected.reason } : {}),
    });
  };

  /** Presents a forged Gatehouse token as the bearer at /mcp: refused before any MCP work, and audited. */
  const expectRefusedAtMcp = async (bearer: string, reason: string) => {
    const before = await f.auditHead();
    const response = await f.fx.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: {
        authorization: `Bearer ${bearer}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      payload: {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'attacker', version: '1' },
        },
      },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.data.code).toBe('invalid_token');
    const audit = await f.auditSince(before);
    expect(audit.map((entry) => entry.action)).toEqual(['mcp.request.refused']);
    expect(audit[0]?.details).toMatchObject({ code: 'invalid_token', reason });
  };

  it('the untouched tokens pass (the suite attacks something that works)', async () => {
    expect(
      (await f.exchange(f.agents.planner, await signIdp(idpClaims()), { subject_token_type: ID_TOKEN }))
        .status,
    ).toBe(200);
    expect((await f.exchange(f.agents.planner, await signGatehouse(gatehouseClaims()))).status).toBe(200);
  });

  it('alg: none', async () => {
    await expectRejected(unsigned({ alg: 'none' }, idpClaims()), {
      code: 'invalid_token',
      reason: 'algorithm',
    });
    await expectRejected(unsigned({ alg: 'none', typ: 'at+jwt' }, gatehouseClaims()), {
      code: 'invalid_token',
      reason: 'algorithm',
    });
    await expectRefusedAtMcp(unsigned({ alg: 'none', typ: 'at+jwt' }, gatehouseClaims()), 'algorithm');
  });

  it('HS256 signed with our public key (algorithm confusion)', async () => {
    const confused = async (publicJwk: Record<string, unknown>, claims: JWTPayload, kid: string) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' })
        .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    await expectRejected(await confused(gatehouseJwk, gatehouseClaims(), gatehouseJwk.kid), {
      code: 'invalid_token',
      reason: 'algorithm',
    });
    await expectRefusedAtMcp(await confused(gatehouseJwk, gatehouseClaims(), gatehouseJwk.kid), 'algorithm');
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...idpPublic } = f.idp.signingJwk;
    await expectRejected(await confused(idpPublic, idpClaims(), f.idp.signingJwk.kid), {
      code: 'invalid_token',
      reason: 'algorithm',
    });
  });

  it('unknown kid', async () => {
    await expectRejected(await signIdp(idpClaims(), { kid: 'rotated-away-42' }), {
      code: 'invalid_token',
      reason: 'kid',
    });
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const forged = await new SignJWT(gatehouseClaims())
      .setProtectedHeader({ alg: 'EdDSA', kid: 'no-such-gatehouse-key', typ: 'at+jwt' })
      .sign(stranger);
    await expectRejected(forged, { code: 'invalid_token', reason: 'kid' });
    await expectRefusedAtMcp(forged, 'kid');
  });

  it('kid with path traversal or injection text', async () => {
    for (const kid of [
      '../../../../etc/passwd',
      "x' OR '1'='1",
      'k"; DROP TABLE signing_keys; --',
      'a/b?c=d',
    ]) {
      await expectRejected(await signIdp(idpClaims(), { kid }), { code: 'invalid_token', reason: 'kid' });
      const forged = await new SignJWT(gatehouseClaims())
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
        .sign(generateKeyPairSync('ed25519').privateKey);
      await expectRefusedAtMcp(forged, 'kid');
    }
  });

  it('jku/x5u pointing elsewhere', async () => {
    const attacker = await generateKeyPair('RS256', { extractable: true });
    const attackerJwk = await exportJWK(attacker.publicKey);
    for (const header of [
      { jku: 'https://attacker.example/jwks.json' },
      { x5u: 'https://attacker.example/cert.pem' },
      { jwk: attackerJwk },
    ]) {
      const forged = await new SignJWT(idpClaims())
        .setProtectedHeader({ alg: 'RS256', kid: f.idp.signingJwk.kid, ...header })
        .sign(attacker.privateKey);
      await expectRejected(forged, { code: 'invalid_token', reason: 'key_pointer' });
    }
  });

  it('expired', async () => {
    await expectRejected(await signIdp({ ...idpClaims(), iat: now() - 900, exp: now() - 600 }), {
      code: 'invalid_token',
      reason: 'expired',
    });
    await expectRejected(await signGatehouse({ ...gatehouseClaims(), iat: now() - 900, exp: now() - 600 }), {
      code: 'invalid_token',
      reason: 'expired',
    });
    await expectRefusedAtMcp(await signGatehouse({ ...gatehouseClaims(), exp: now() - 600 }), 'expired');
  });

  it('not yet valid', async () => {
    await expectRejected(await signIdp({ ...idpClaims(), nbf: now() + 600 }), {
      code: 'invalid_token',
      reason: 'nbf',
    });
    await expectRejected(await signGatehouse({ ...gatehouseClaims(), nbf: now() + 600 }), {
      code: 'invalid_token',
      reason: 'nbf',
    });
    await expectRefusedAtMcp(await signGatehouse({ ...gatehouseClaims(), nbf: now() + 600 }), 'nbf');
  });

  it('wrong iss', async () => {
    await expectRejected(await signIdp({ ...idpClaims(), iss: 'https://login.evil.example' }), {
      code: 'invalid_token',
      reason: 'issuer',
    });
  });

  it('wrong aud', async () => {
    await expectRejected(await signIdp({ ...idpClaims(), aud: 'some-other-app' }), {
      code: 'invalid_token',
      reason: 'aud',
    });
    // A Gatehouse token addressed to another agent (or an upstream) is refused by everyone else.
    await expectRejected(await signGatehouse({ ...gatehouseClaims(), aud: f.agents.writer.id }), {
      code: 'invalid_token',
      reason: 'aud',
    });
    await expectRejected(await signGatehouse({ ...gatehouseClaims(), aud: 'files' }), {
      code: 'invalid_token',
      reason: 'aud',
    });
    // ...and by Gatehouse's own endpoints.
    await expectRefusedAtMcp(await signGatehouse({ ...gatehouseClaims(), aud: f.agents.writer.id }), 'aud');
    await expectRefusedAtMcp(await signGatehouse({ ...gatehouseClaims(), aud: 'files' }), 'aud');
  });

  it('missing exp', async () => {
    const { exp: _exp, ...noExp } = idpClaims();
    await expectRejected(await signIdp(noExp), { code: 'invalid_token', reason: 'exp' });
    const { exp: _gexp, ...gatehouseNoExp } = gatehouseClaims();
    await expectRejected(await signGatehouse(gatehouseNoExp), { code: 'invalid_token', reason: 'exp' });
    await expectRefusedAtMcp(await signGatehouse(gatehouseNoExp), 'exp');
  });

  it('signature over a modified payload', async () => {
    const real = await f.idp.login('carol');
    await expectRejected(
      swapPayload(real, (claims) => ({ ...claims, email: 'alice@acme.example', groups: ['admins'] })),
      { code: 'invalid_token', reason: 'signature' },
    );
    const own = await f.ownToken(f.agents.writer);
    await expectRefusedAtMcp(
      swapPayload(own, (claims) => ({ ...claims, sub: f.agents.planner.id, client_id: f.agents.planner.id })),
      'signature',
    );
  });

  it('a token from a second, untrusted issuer with the same kid', async () => {
    const second = await generateKeyPair('RS256');
    const header = { alg: 'RS256', kid: f.idp.signingJwk.kid };
    // Claiming to be the trusted issuer: its keys do not verify the signature.
    await expectRejected(await new SignJWT(idpClaims()).setProtectedHeader(header).sign(second.privateKey), {
      code: 'invalid_token',
      reason: 'signature',
    });
    // Saying who it is: that issuer is not configured, so its keys are never even fetched.
    await expectRejected(
      await new SignJWT({ ...idpClaims(), iss: 'http://127.0.0.1:1/second-idp' })
        .setProtectedHeader(header)
        .sign(second.privateKey),
      { code: 'invalid_token', reason: 'issuer' },
    );
  });

  it('a replayed single-use capability (sequential and 50 concurrent redemptions: exactly one succeeds)', async () => {
    const { gatehouse } = f.fx;
    const deps = { keyring: gatehouse.keyring, issuer: gatehouse.issuer, clock: gatehouse.clock };
    const call = { audience: 'files', tool: 'read_file', args: { path: '/a' }, sessionId: 'ses_x' };
    const mint = () => mintCapability({ ...deps, ttlMs: 30_000 }, { agentId: f.agents.planner.id, ...call });
    const redeem = (token: string) =>
      redeemCapability({ ...deps, store: gatehouse.store }, token, call).then(
        () => 'redeemed',
        (error: { code?: string }) => error.code,
      );
    const sequential = (await mint()).token;
    expect(await redeem(sequential)).toBe('redeemed');
    expect(await redeem(sequential)).toBe('capability_replayed');
    const concurrent = (await mint()).token;
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => redeem(concurrent)));
    expect(outcomes.filter((outcome) => outcome === 'redeemed')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'capability_replayed')).toHaveLength(49);
  });

  it('a delegated token whose act chain was edited', async () => {
    const parent = (
      await f.exchange(f.agents.planner, await f.idp.login('alice'), { subject_token_type: ID_TOKEN })
    ).body.access_token as string;
    const handed = (await f.exchange(f.agents.planner, parent, { audience: f.agents.researcher.id })).body
      .access_token as string;
    // The researcher tries to drop the planner from the chain, or to pose as the writer acting before it.
    for (const edit of [
      (claims: JWTPayload) => ({ ...claims, act: undefined }),
      (claims: JWTPayload) => ({ ...claims, act: { sub: f.agents.writer.id } }),
    ]) {
      await expectRejected(
        swapPayload(handed, edit),
        { code: 'invalid_token', reason: 'signature' },
        f,
        f.agents.researcher,
      );
    }
    await expectRefusedAtMcp(
      swapPayload(parent, (claims) => ({
        ...claims,
        act: { sub: f.agents.planner.id, act: { sub: 'agt_admin' } },
      })),
      'signature',
    );
  });

  it('a chain deeper than allowed', async () => {
    const { agents } = deep;
    let token = (
      await deep.exchange(agents.planner, await deep.idp.login('alice'), { subject_token_type: ID_TOKEN })
    ).body.access_token as string;
    token = (await deep.exchange(agents.planner, token, { audience: agents.researcher.id })).body
      .access_token as string;
    token = (await deep.exchange(agents.researcher, token)).body.access_token as string;
    const handed = await deep.exchange(agents.researcher, token, { audience: agents.writer.id });
    expect(handed.status).toBe(200);
    await expectRejected(
      handed.body.access_token as string,
      { code: 'delegation_too_deep', status: 403 },
      deep,
      agents.writer,
      { subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' },
    );
  });

  it('a widened scope', async () => {
    const parent = (
      await f.exchange(f.agents.planner, await f.idp.login('alice'), {
        subject_token_type: ID_TOKEN,
        scope: 'crm.get_*',
      })
    ).body.access_token as string;
    await expectRejected(parent, { code: 'invalid_scope', status: 400 }, f, f.agents.planner, {
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      scope: 'crm.*',
    });
  });
});
