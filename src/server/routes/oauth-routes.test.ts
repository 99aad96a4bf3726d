import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { createLocalJWKSet, decodeProtectedHeader, importJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectingRecorder } from '../../../test/support/audit.js';
import { makeAgent, makeTeam, makeUser } from '../../../test/support/records.js';
import { openTestStore, type TestStore } from '../../../test/support/stores.js';
import { type AgentKeyPair, generateAgentKeyPair } from '../../identity/agent-credentials.js';
import { createSigningKeyring, type SigningKeyring } from '../../identity/signing-keyring.js';
import { createManualClock } from '../../lib/clock.js';
import type { Agent } from '../../registry/types.js';
import type { Store } from '../../store/index.js';
import { classifyRequestError, sendProblem } from '../problem.js';
import { registerOAuthRoutes } from './oauth-routes.js';

const ISSUER = 'https://gatehouse.test';
const TOKEN_ENDPOINT = `${ISSUER}/oauth/token`;
const AUDIENCE = 'gatehouse';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MINUTE = 60_000;

interface TestAgent {
  agent: Agent;
  key: AgentKeyPair;
}

let fixture: TestStore;
let store: Store;
let clock: ReturnType<typeof createManualClock>;
let audit: ReturnType<typeof collectingRecorder>;
let keyring: SigningKeyring;
let app: FastifyInstance;
let alice: TestAgent;
let bob: TestAgent;
/** Rejections already accounted for, so each expectRejected proves exactly one new audit entry. */
let rejectionsSeen = 0;

async function insertAgent(name: string, alg: 'EdDSA' | 'ES256' = 'EdDSA'): Promise<TestAgent> {
  const now = clock.now();
  const agent = makeAgent({
    id: `agt_${name}`,
    name,
    reviewStatus: 'approved',
    createdAt: now,
    updatedAt: now,
  });
  await store.agents.insert(agent);
  const key = await generateAgentKeyPair(alg);
  await store.agentKeys.insert({
    kid: key.kid,
    agentId: agent.id,
    alg: key.alg,
    publicJwk: key.publicJwk as Record<string, unknown>,
    createdAt: now,
    revokedAt: null,
  });
  return { agent, key };
}

interface AssertionOptions {
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  /** Sign with this key instead of the agent's own. */
  signer?: AgentKeyPair;
}

/** The claims of a client assertion from `subject` to the token endpoint, valid for a minute from now. */
function assertionClaims(subject: TestAgent, jti: string = randomUUID()) {
  const iat = Math.floor(clock.now() / 1000);
  return { iss: subject.agent.id, sub: subject.agent.id, aud: TOKEN_ENDPOINT, iat, exp: iat + 60, jti };
}

/** A client assertion as a well-behaved agent SDK would build it; options bend it for the attacks. */
async function assertionFor(subject: TestAgent, options: AssertionOptions = {}): Promise<string> {
  const signer = options.signer ?? subject.key;
  const claims = { ...assertionClaims(subject), ...options.claims };
  for (const [name, value] of Object.entries(claims))
    if (value === undefined) delete (claims as Record<string, unknown>)[name];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, ...options.header })
    .sign(await importJWK(signer.privateJwk, signer.alg));
}

function postToken(
  fields: Record<string, string | string[]>,
  contentType = 'application/x-www-form-urlencoded',
) {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) form.append(name, item);
  }
  return app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': contentType },
    payload: form.toString(),
  });
}

const tokenRequest = (assertion: string, extra: Record<string, string> = {}) =>
  postToken({
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
    ...extra,
  });

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
const tokensIssued = () => audit.records.filter((record) => record.action === 'token.issued');
const rejections = () => audit.records.filter((record) => record.action === 'client_assertion.rejected');

/** A jti the ledger has never seen can still be recorded: proof a rejected assertion burned nothing. */
async function expectJtiUnused(agent: TestAgent, assertion: string) {
  const jti = claimsOf(assertion).jti;
  if (typeof jti === 'string')
    expect(await store.usedAssertions.record(agent.agent.id, jti, clock.now() + MINUTE)).toBe(true);
}

/** The shared shape of every attack: refused with a problem code, no token issued, the rejection audited. */
async function expectRejected(
  response: Awaited<ReturnType<typeof postToken>>,
  status: number,
  code: string,
  claimedAgentId: string | null,
) {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  const body = response.json();
  expect(body.code).toBe(code);
  expect(body).not.toHaveProperty('access_token');
  expect(typeof body.error).toBe('string'); // RFC 6749 section 5.2 on /oauth/*
  expect(tokensIssued()).toHaveLength(0);
  expect(rejections()).toHaveLength(rejectionsSeen + 1);
  rejectionsSeen += 1;
  expect(rejections().at(-1)).toMatchObject({
    actor: 'anonymous',
    details: { code, claimedAgentId },
  });
  return body;
}

/** expectRejected for the commonest attack outcome: an assertion claiming to be alice, refused as invalid. */
const expectAliceRefused = async (assertion: string) =>
  expectRejected(await tokenRequest(assertion), 401, 'invalid_client_assertion', alice.agent.id);

beforeEach(async () => {
  fixture = await openTestStore('sqlite');
  store = fixture.store;
  clock = createManualClock();
  audit = collectingRecorder();
  keyring = createSigningKeyring({
    store,
    masterKey: Buffer.alloc(32, 7),
    clock,
    audit,
    retiredKeyVerifyMs: 10 * MINUTE,
  });
  await keyring.ensureActiveKey();
  await store.teams.insert(makeTeam({ name: 'payments' }));
  await store.users.insert(makeUser({ email: 'ana@example.com' }));
  alice = await insertAgent('alice');
  bob = await insertAgent('bob', 'ES256');
  audit.records.length = 0;
  rejectionsSeen = 0;

  app = Fastify();
  app.setErrorHandler((error, request, reply) => sendProblem(request, reply, classifyRequestError(error)));
  registerOAuthRoutes(app, {
    store,
    keyring,
    audit,
    clock,
    issuer: ISSUER,
    tokenEndpoint: TOKEN_ENDPOINT,
    audience: AUDIENCE,
    accessTokenTtlMs: 5 * MINUTE,
    clientAssertionMaxAgeMs: 5 * MINUTE,
    clockSkewMs: 30_000,
  });
  await app.ready();
});

afterEach(async () => {
  await app.close();
  await fixture.dispose();
});

describe('POST /oauth/token: the happy path', () => {
  it('issues an RFC 9068 access token that verifies through the published JWKS alone', async () => {
    const response = await tokenRequest(await assertionFor(alice));
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300 });

    // Independent JOSE path: fetch the JWKS over HTTP and verify with jose's own resolver.
    const jwks = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    for (const key of jwks.keys) expect(key).not.toHaveProperty('d');
    const { payload, protectedHeader } = await jwtVerify(body.access_token, createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
      algorithms: ['EdDSA'],
      currentDate: new Date(clock.now()),
    });
    expect(protectedHeader.kid).toBe(jwks.keys[0].kid);
    expect(payload).toMatchObject({
      sub: alice.agent.id,
      client_id: alice.agent.id,
      iat: clock.now() / 1000,
    });
    expect(payload.exp).toBe(clock.now() / 1000 + 300);

    const [issued, ...more] = tokensIssued();
    expect(more).toHaveLength(0);
    expect(issued).toMatchObject({
      actor: `agent:${alice.agent.id}`,
      target: alice.agent.id,
      details: { jti: payload.jti, exp: payload.exp },
    });
    expect(JSON.stringify(audit.records)).not.toContain(body.access_token);

    const me = await app.inject({
      method: 'GET',
      url: '/agent/v1/me',
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({
      id: alice.agent.id,
      name: 'alice',
      teamId: 'team_1',
      state: 'active',
      reviewStatus: 'approved',
    });
  });

  it('accepts an ES256 agent, an assertion without kid, the issuer as aud, and a matching client_id', async () => {
    const assertion = await assertionFor(bob, { header: { kid: undefined }, claims: { aud: ISSUER } });
    expect(decodeProtectedHeader(assertion).kid).toBeUndefined();
    const response = await tokenRequest(assertion, { client_id: bob.agent.id });
    expect(response.statusCode).toBe(200);
  });

  it('publishes RFC 8414 metadata', async () => {
    const response = await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      issuer: ISSUER,
      token_endpoint: TOKEN_ENDPOINT,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['EdDSA', 'ES256'],
    });
  });
});

describe('POST /oauth/token: attacks on the client assertion', () => {
  it('refuses an expired assertion and burns nothing', async () => {
    const assertion = await assertionFor(alice);
    clock.advance(2 * MINUTE); // 60 s lifetime + 30 s skew are both behind us
    const body = await expectAliceRefused(assertion);
    expect(body.error).toBe('invalid_client');
    expect(body.detail).toContain('expired');
    await expectJtiUnused(alice, assertion);
  });

  it('refuses a replayed assertion: the same jti twice', async () => {
    const assertion = await assertionFor(alice);
    expect((await tokenRequest(assertion)).statusCode).toBe(200);
    const replay = await tokenRequest(assertion);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('assertion_replayed');
    expect(tokensIssued()).toHaveLength(1);
    expect(rejections().at(-1)).toMatchObject({
      details: { code: 'assertion_replayed', claimedAgentId: alice.agent.id },
    });
  });

  it("refuses an assertion for one agent signed with another agent's key, with or without kid", async () => {
    const bobsKeyForAlice = await assertionFor(alice, { signer: bob.key });
    await expectAliceRefused(bobsKeyForAlice);
    await expectJtiUnused(alice, bobsKeyForAlice);
    const noKid = await assertionFor(alice, { signer: bob.key, header: { kid: undefined } });
    await expectAliceRefused(noKid);
    // An Ed25519 key of an unregistered party, claiming alice's kid.
    const stranger = await generateAgentKeyPair();
    const forged = await assertionFor(alice, { signer: stranger, header: { kid: alice.key.kid } });
    const body = await expectAliceRefused(forged);
    expect(body.detail).toBe('the client assertion could not be verified');
  });

  it('refuses alg none', async () => {
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = assertionClaims(alice, 'none-1');
    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${b64({ alg, kid: alice.key.kid })}.${b64(claims)}.`;
      await expectAliceRefused(unsigned);
    }
    await expectJtiUnused(alice, `x.${b64(claims)}.`);
  });

  it("refuses HS256 keyed with the agent's public key bytes", async () => {
    const claims = assertionClaims(alice, 'hs-1');
    const secrets = [
      Buffer.from(alice.key.publicJwk.x as string, 'base64url'),
      new TextEncoder().encode(JSON.stringify(alice.key.publicJwk)),
      new TextEncoder().encode(alice.key.publicJwk.x as string),
    ];
    for (const secret of secrets) {
      const hs = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: alice.key.kid })
        .sign(secret);
      await expectAliceRefused(hs);
    }
    await expectJtiUnused(alice, await assertionFor(alice, { claims: { jti: 'hs-1' } }));
  });

  it('refuses an assertion addressed to someone else', async () => {
    for (const aud of ['https://other.example/oauth/token', `${ISSUER}/other`, ['https://other.example']]) {
      const assertion = await assertionFor(alice, { claims: { aud } });
      const body = await expectAliceRefused(assertion);
      expect(body.detail).toContain('`aud`');
      await expectJtiUnused(alice, assertion);
    }
  });

  it('refuses iss different from sub, and a client_id naming another agent', async () => {
    const crossed = await assertionFor(alice, { claims: { iss: bob.agent.id } });
    await expectAliceRefused(crossed);
    const wrongClient = await assertionFor(alice);
    await expectRejected(
      await tokenRequest(wrongClient, { client_id: bob.agent.id }),
      401,
      'invalid_client_assertion',
      alice.agent.id,
    );
    await expectJtiUnused(alice, wrongClient);
  });

  it('refuses an assertion without jti, or with an absurd one', async () => {
    const noJti = await assertionFor(alice, { claims: { jti: undefined } });
    const body = await expectAliceRefused(noJti);
    expect(body.detail).toContain('`jti`');
    const longJti = await assertionFor(alice, { claims: { jti: 'x'.repeat(257) } });
    await expectAliceRefused(longJti);
  });

  it('refuses an assertion that lives too long, with or without iat, and one without exp', async () => {
    const iat = Math.floor(clock.now() / 1000);
    const farExp = await assertionFor(alice, { claims: { exp: iat + 3600 } });
    await expectAliceRefused(farExp);
    await expectJtiUnused(alice, farExp);
    const noIat = await assertionFor(alice, { claims: { iat: undefined, exp: iat + 3600 } });
    await expectAliceRefused(noIat);
    const noExp = await assertionFor(alice, { claims: { exp: undefined } });
    await expectAliceRefused(noExp);
    const futureIat = await assertionFor(alice, { claims: { iat: iat + 600, exp: iat + 660 } });
    await expectAliceRefused(futureIat);
  });

  it('answers an unknown agent exactly like a bad signature, revealing nothing', async () => {
    const ghost: TestAgent = { agent: { ...alice.agent, id: 'agt_ghost' }, key: alice.key };
    const unknown = await expectRejected(
      await tokenRequest(await assertionFor(ghost)),
      401,
      'invalid_client_assertion',
      'agt_ghost',
    );
    const badSignature = await expectRejected(
      await tokenRequest(await assertionFor(alice, { signer: bob.key })),
      401,
      'invalid_client_assertion',
      alice.agent.id,
    );
    expect(unknown.detail).toBe(badSignature.detail);
  });

  it('refuses an assertion signed with a revoked key', async () => {
    await store.agentKeys.revoke(alice.key.kid, clock.now());
    await expectRejected(
      await tokenRequest(await assertionFor(alice)),
      401,
      'invalid_client_assertion',
      alice.agent.id,
    );
  });

  it('a suspended agent gets no token, and its live token stops working at once', async () => {
    const live = (await tokenRequest(await assertionFor(alice))).json().access_token as string;
    await store.agents.update(alice.agent.id, { state: 'suspended', stateReason: 'incident' });
    audit.records.length = 0;
    rejectionsSeen = 0;

    const assertion = await assertionFor(alice);
    await expectRejected(await tokenRequest(assertion), 401, 'agent_inactive', alice.agent.id);
    await expectJtiUnused(alice, assertion);

    const me = await app.inject({
      method: 'GET',
      url: '/agent/v1/me',
      headers: { authorization: `Bearer ${live}` },
    });
    expect(me.statusCode).toBe(401);
    expect(me.json().code).toBe('invalid_token');
    expect(me.headers['www-authenticate']).toContain('invalid_token');

    await store.agents.update(alice.agent.id, { state: 'active', stateReason: null });
    const again = await app.inject({
      method: 'GET',
      url: '/agent/v1/me',
      headers: { authorization: `Bearer ${live}` },
    });
    expect(again.statusCode).toBe(200);
  });

  it('refuses an oversized assertion, and an oversized body before parsing it', async () => {
    const huge = `${(await assertionFor(alice)).split('.').slice(0, 2).join('.')}.${'A'.repeat(9000)}`;
    const body = await expectRejected(await tokenRequest(huge), 401, 'invalid_client_assertion', null);
    expect(body.detail).toContain('exceeds');
    const tooBig = await tokenRequest('A'.repeat(40 * 1024));
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().code).toBe('body_too_large');
    expect(rejections().at(-1)).toMatchObject({ details: { code: 'body_too_large' } });
    expect(tokensIssued()).toHaveLength(0);
  });
});

describe('POST /oauth/token: malformed requests', () => {
  it('refuses a JSON body, and a form without a content type', async () => {
    const assertion = await assertionFor(alice);
    const json = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: assertion,
      },
    });
    await expectRejected(json, 415, 'unsupported_media_type', alice.agent.id);
    for (const contentType of ['text/plain', 'application/xml']) {
      await expectRejected(
        await postToken({ grant_type: 'client_credentials' }, contentType),
        415,
        'unsupported_media_type',
        null,
      );
    }
    await expectJtiUnused(alice, assertion);
  });

  it('refuses missing and repeated parameters with invalid_request', async () => {
    const assertion = await assertionFor(alice);
    const cases: Record<string, string | string[]>[] = [
      {},
      { grant_type: 'client_credentials' },
      { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER },
      { grant_type: 'client_credentials', client_assertion_type: 'urn:other', client_assertion: assertion },
      {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: [assertion, assertion],
      },
      {
        grant_type: ['client_credentials', 'client_credentials'],
        client_assertion_type: JWT_BEARER,
        client_assertion: assertion,
      },
    ];
    for (const fields of cases) {
      const body = await expectRejected(
        await postToken(fields),
        400,
        'invalid_request',
        typeof fields.client_assertion === 'string' ? alice.agent.id : null,
      );
      expect(body.error).toBe('invalid_request');
    }
    const garbage = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: '%%%&&&=====',
    });
    await expectRejected(garbage, 400, 'invalid_request', null);
    await expectJtiUnused(alice, assertion);
  });

  it('refuses other grant types with unsupported_grant_type', async () => {
    const response = await postToken({ grant_type: 'password', username: 'a', password: 'b' });
    const body = await expectRejected(response, 400, 'unsupported_grant_type', null);
    expect(body.error).toBe('unsupported_grant_type');
  });

  it('refuses a client_assertion that is not a JWT', async () => {
    await expectRejected(await tokenRequest('definitely-not-a-jwt'), 401, 'invalid_client_assertion', null);
  });
});

describe('GET /agent/v1/me', () => {
  it('refuses missing, malformed and foreign bearer tokens with 401 invalid_token', async () => {
    const assertion = await assertionFor(alice);
    const own = await new SignJWT({
      iss: ISSUER,
      sub: alice.agent.id,
      aud: AUDIENCE,
      exp: 9_999_999_999,
      jti: 'x',
    })
      .setProtectedHeader({
        alg: alice.key.alg,
        kid: (await keyring.publicJwks()).keys[0]?.kid,
        typ: 'at+jwt',
      })
      .sign(await importJWK(alice.key.privateJwk as JWK, alice.key.alg));
    for (const authorization of [
      undefined,
      'Bearer',
      'Basic abc',
      'Bearer not-a-jwt',
      `Bearer ${assertion}`,
      `Bearer ${own}`,
    ]) {
      const response = await app.inject({
        method: 'GET',
        url: '/agent/v1/me',
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(response.statusCode).toBe(401);
      expect(response.json().code).toBe('invalid_token');
      expect(response.headers['www-authenticate']).toContain('Bearer');
    }
  });

  it('rejects an expired access token', async () => {
    const token = (await tokenRequest(await assertionFor(alice))).json().access_token as string;
    clock.advance(6 * MINUTE);
    const response = await app.inject({
      method: 'GET',
      url: '/agent/v1/me',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().detail).toContain('expired');
  });
});

describe('signing key rotation through the HTTP face', () => {
  it('old tokens keep working, new tokens carry the new kid, and the JWKS lists both until the old one lapses', async () => {
    const oldToken = (await tokenRequest(await assertionFor(alice))).json().access_token as string;
    const { kid, retiredKid } = await keyring.rotate();
    const newToken = (await tokenRequest(await assertionFor(alice))).json().access_token as string;
    expect(decodeProtectedHeader(newToken).kid).toBe(kid);
    expect(decodeProtectedHeader(oldToken).kid).toBe(retiredKid);

    const kids = async () =>
      (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' }))
        .json()
        .keys.map((key: { kid: string }) => key.kid);
    expect(await kids()).toEqual([kid, retiredKid]);
    for (const token of [oldToken, newToken]) {
      const me = await app.inject({
        method: 'GET',
        url: '/agent/v1/me',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(me.statusCode).toBe(200);
    }
    clock.advance(10 * MINUTE + 1);
    expect(await kids()).toEqual([kid]);
  });
});
