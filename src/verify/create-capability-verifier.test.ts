import { base64url, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { argsSha256 } from './args-sha256.js';
import { CapabilityVerificationError } from './capability-verification-error.js';
import { CAPABILITY_TYP } from './constants.js';
import { type CapabilityVerifierOptions, createCapabilityVerifier } from './create-capability-verifier.js';
import type { ReplayCache } from './replay-cache.js';

const ISSUER = 'https://gatehouse.test';
const AUDIENCE = 'tickets';
const T0 = Date.UTC(2026, 0, 1);
const ARGS = { title: 'printer on fire', priority: 1 };

type Signer = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let gatehouseKey: Signer;
let otherKey: Signer;
let jwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  gatehouseKey = pair.privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
  otherKey = (await generateKeyPair('EdDSA', { crv: 'Ed25519' })).privateKey;
});

let now = T0;
const verifierWith = (options: Partial<CapabilityVerifierOptions> = {}) =>
  createCapabilityVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwks: { keys: [jwk] },
    now: () => now,
    ...options,
  });

let counter = 0;
const claimsFor = (overrides: JWTPayload = {}): JWTPayload => {
  const iat = Math.floor(now / 1000);
  counter += 1;
  return {
    iss: ISSUER,
    sub: 'agt_1',
    aud: AUDIENCE,
    iat,
    exp: iat + 30,
    jti: `cap_${counter}`,
    sid: 'ses_1',
    tool: 'create_ticket',
    args_sha256: argsSha256(ARGS),
    ...overrides,
  };
};

const sign = (
  payload: JWTPayload = claimsFor(),
  header: { typ?: string; kid?: string } = {},
  key: Signer = gatehouseKey,
) =>
  new SignJWT(payload)
    .setProtectedHeader({
      alg: 'EdDSA',
      kid: 'kid' in header ? header.kid : 'k1',
      typ: header.typ ?? CAPABILITY_TYP,
    })
    .sign(key);

const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error instanceof CapabilityVerificationError ? error.code : `unexpected: ${String(error)}`;
  }
  return undefined;
};

describe('createCapabilityVerifier', () => {
  it('accepts a capability for the call once and returns its claims', async () => {
    now = T0;
    const verifier = verifierWith();
    const token = await sign(claimsFor({ act: { sub: 'agt_parent' } }));
    const claims = await verifier.verify(token, {
      tool: 'create_ticket',
      args: { priority: 1, title: 'printer on fire' },
    });
    expect(claims).toMatchObject({
      sub: 'agt_1',
      sid: 'ses_1',
      tool: 'create_ticket',
      act: { sub: 'agt_parent' },
    });
    expect(await codeOf(verifier.verify(token, { tool: 'create_ticket', args: ARGS }))).toBe(
      'capability_replayed',
    );
  });

  it('does not burn a capability on a refused attempt', async () => {
    now = T0;
    const verifier = verifierWith();
    const token = await sign();
    expect(
      await codeOf(verifier.verify(token, { tool: 'create_ticket', args: { ...ARGS, priority: 9 } })),
    ).toBe('capability_mismatch');
    await expect(verifier.verify(token, { tool: 'create_ticket', args: ARGS })).resolves.toBeTruthy();
  });

  it.each([
    ['no token', async () => undefined, 'capability_missing'],
    ['an empty token', async () => '', 'capability_missing'],
    ['garbage', async () => 'not-a-jwt', 'capability_invalid'],
    ['a token too long to be one', async () => 'a'.repeat(10_000), 'capability_invalid'],
    ['another tool', () => sign(claimsFor({ tool: 'delete_ticket' })), 'capability_mismatch'],
    [
      'other arguments',
      () => sign(claimsFor({ args_sha256: argsSha256({ ...ARGS, priority: 2 }) })),
      'capability_mismatch',
    ],
    ['another audience', () => sign(claimsFor({ aud: 'billing' })), 'capability_invalid'],
    ['another issuer', () => sign(claimsFor({ iss: 'https://evil.test' })), 'capability_invalid'],
    ['an access token typ', () => sign(claimsFor(), { typ: 'at+jwt' }), 'capability_invalid'],
    ['no typ', () => sign(claimsFor(), { typ: 'JWT' }), 'capability_invalid'],
    ['another key under the same kid', () => sign(claimsFor(), {}, otherKey), 'capability_invalid'],
    ['an unknown kid', () => sign(claimsFor(), { kid: 'k2' }), 'capability_invalid'],
    ['no kid', () => sign(claimsFor(), { kid: undefined }), 'capability_invalid'],
    ['no jti', () => sign(claimsFor({ jti: undefined })), 'capability_invalid'],
    ['a non-string tool', () => sign(claimsFor({ tool: 7 })), 'capability_invalid'],
    [
      'a lifetime over 60 s',
      () => sign(claimsFor({ exp: Math.floor(T0 / 1000) + 61 })),
      'capability_invalid',
    ],
    [
      'an iat in the future',
      () => sign(claimsFor({ iat: Math.floor(T0 / 1000) + 30 })),
      'capability_invalid',
    ],
    [
      'an expired capability',
      () => sign(claimsFor({ iat: Math.floor(T0 / 1000) - 50, exp: Math.floor(T0 / 1000) - 10 })),
      'capability_expired',
    ],
    ['an old iat', () => sign(claimsFor({ iat: Math.floor(T0 / 1000) - 120 })), 'capability_expired'],
  ])('refuses %s', async (_name, token, code) => {
    now = T0;
    expect(await codeOf(verifierWith().verify(await token(), { tool: 'create_ticket', args: ARGS }))).toBe(
      code,
    );
  });

  it('refuses alg none and a tampered payload or signature', async () => {
    now = T0;
    const verifier = verifierWith();
    const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
    const unsigned = `${encode({ alg: 'none', typ: CAPABILITY_TYP, kid: 'k1' })}.${encode(claimsFor())}.`;
    expect(await codeOf(verifier.verify(unsigned, { tool: 'create_ticket', args: ARGS }))).toBe(
      'capability_invalid',
    );

    const [header, , signature] = (await sign()).split('.');
    const forged = `${header}.${encode(claimsFor({ args_sha256: argsSha256({ title: 'rm -rf' }) }))}.${signature}`;
    expect(await codeOf(verifier.verify(forged, { tool: 'create_ticket', args: { title: 'rm -rf' } }))).toBe(
      'capability_invalid',
    );
    const token = await sign();
    const flipped = `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.at(-1)}`;
    expect(await codeOf(verifier.verify(flipped, { tool: 'create_ticket', args: ARGS }))).toBe(
      'capability_invalid',
    );
  });

  it('tolerates clock difference within clockToleranceSeconds, and not beyond', async () => {
    now = T0;
    const token = await sign(claimsFor({ exp: Math.floor(T0 / 1000) + 10 }));
    now = T0 + 13_000;
    await expect(verifierWith().verify(token, { tool: 'create_ticket', args: ARGS })).resolves.toBeTruthy();
    now = T0 + 16_000;
    expect(await codeOf(verifierWith().verify(token, { tool: 'create_ticket', args: ARGS }))).toBe(
      'capability_expired',
    );
  });

  it('checks the session when the caller names one', async () => {
    now = T0;
    const token = await sign();
    expect(
      await codeOf(verifierWith().verify(token, { tool: 'create_ticket', args: ARGS, sessionId: 'ses_2' })),
    ).toBe('capability_mismatch');
  });

  it('remembers a jti until the capability expires plus the tolerance', async () => {
    now = T0;
    const added: Array<[string, number]> = [];
    const cache: ReplayCache = {
      has: () => false,
      add: (jti, expiresAt) => {
        added.push([jti, expiresAt]);
      },
    };
    const payload = claimsFor();
    await verifierWith({ replayCache: cache }).verify(await sign(payload), {
      tool: 'create_ticket',
      args: ARGS,
    });
    expect(added).toEqual([[payload.jti, ((payload.exp as number) + 5) * 1000]]);
  });

  it('refuses as replayed when a shared cache reports the jti already present', async () => {
    now = T0;
    const seen = new Set<string>();
    // What a Redis `SET NX` would answer: atomic across tool-server replicas.
    const shared: ReplayCache = {
      has: async () => false,
      add: async (jti) => {
        if (seen.has(jti)) return false;
        seen.add(jti);
        return true;
      },
    };
    const token = await sign();
    const replicas = [verifierWith({ replayCache: shared }), verifierWith({ replayCache: shared })];
    const outcomes = await Promise.allSettled(
      replicas.map((replica) => replica.verify(token, { tool: 'create_ticket', args: ARGS })),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
  });

  it('never puts argument values in its messages', async () => {
    now = T0;
    const secretArgs = { password: 'hunter2-very-secret' };
    const error = await verifierWith()
      .verify(await sign(), { tool: 'create_ticket', args: secretArgs })
      .catch((caught: unknown) => caught as Error);
    expect(error).toBeInstanceOf(CapabilityVerificationError);
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses unusable options up front', () => {
    expect(() => createCapabilityVerifier({ issuer: '', audience: AUDIENCE })).toThrow(TypeError);
    expect(() => createCapabilityVerifier({ issuer: ISSUER, audience: [] })).toThrow(TypeError);
    expect(() =>
      createCapabilityVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        jwks: { keys: [] },
        jwksUrl: `${ISSUER}/jwks`,
      }),
    ).toThrow(TypeError);
  });
});
