import { randomBytes } from 'node:crypto';
import { compactVerify, createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectingRecorder } from '../../test/support/audit.js';
import { codeOf } from '../../test/support/errors.js';
import { openTestStore, STORE_DRIVERS, type TestStore } from '../../test/support/stores.js';
import { canonicalJson } from '../lib/canonical-json.js';
import { createManualClock } from '../lib/clock.js';
import type { Store } from '../store/index.js';
import { decryptSecret } from './master-key.js';
import { createSigningKeyring, type SigningKeyring } from './signing-keyring.js';

const HOUR = 3600_000;
const ISSUER = 'https://gatehouse.test';

let fixture: TestStore;
let store: Store;
let clock: ReturnType<typeof createManualClock>;
let audit: ReturnType<typeof collectingRecorder>;
let masterKey: Buffer;

const keyringFor = (key: Uint8Array = masterKey): SigningKeyring =>
  createSigningKeyring({ store, masterKey: key, clock, audit, retiredKeyVerifyMs: HOUR });

const sign = (keyring: SigningKeyring, lifetimeMs = 10 * 60_000) => {
  const iat = Math.floor(clock.now() / 1000);
  return keyring.signJwt(
    { iss: ISSUER, aud: 'gatehouse', sub: 'agt_1', iat, exp: iat + lifetimeMs / 1000 },
    { typ: 'at+jwt' },
  );
};

describe.each(STORE_DRIVERS)('signing keyring on %s', (driver) => {
  beforeEach(async () => {
    fixture = await openTestStore(driver);
    store = fixture.store;
    clock = createManualClock();
    audit = collectingRecorder();
    masterKey = randomBytes(32);
  });

  afterEach(async () => {
    await fixture.dispose();
  });

  describe('ensureActiveKey', () => {
    it('generates one Ed25519 key on first start, sealed at rest, and audits it once', async () => {
      const keyring = keyringFor();
      const first = await keyring.ensureActiveKey('cli:test');
      expect(first.created).toBe(true);
      expect(await keyring.ensureActiveKey('cli:test')).toEqual({ kid: first.kid, created: false });
      expect(audit.records).toEqual([
        expect.objectContaining({
          actor: 'cli:test',
          action: 'signing_key.generated',
          target: `signing_key:${first.kid}`,
        }),
      ]);

      const [stored, ...others] = await store.signingKeys.list();
      expect(others).toHaveLength(0);
      if (!stored) throw new Error('no key stored');
      expect(stored.status).toBe('active');
      expect(stored.publicJwk).not.toHaveProperty('d');
      const privateJwk = JSON.parse(
        decryptSecret(masterKey, stored.privateJwkEncrypted, `gatehouse:signing_key:${stored.kid}`),
      );
      expect(typeof privateJwk.d).toBe('string');
      // The private scalar must not appear in clear (nor in any encoding a grep would find) in the stored row.
      expect(stored.privateJwkEncrypted).not.toContain(privateJwk.d);
      expect(JSON.stringify(stored)).not.toContain(privateJwk.d);
      expect(stored.privateJwkEncrypted).not.toContain('"d"');
    });

    it('settles a start-up race between two processes on one key', async () => {
      const [a, b] = await Promise.all([keyringFor().ensureActiveKey(), keyringFor().ensureActiveKey()]);
      expect(a.kid).toBe(b.kid);
      expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
      expect(await store.signingKeys.list()).toHaveLength(1);
      expect(audit.records.filter((r) => r.action === 'signing_key.generated')).toHaveLength(1);
    });

    it('fails with master_key_mismatch when started with a different master key', async () => {
      await keyringFor().ensureActiveKey();
      expect(await codeOf(keyringFor(randomBytes(32)).ensureActiveKey())).toBe('master_key_mismatch');
    });
  });

  describe('signing and verifying', () => {
    it('signs with the active key and publishes only public members', async () => {
      const keyring = keyringFor();
      const { kid } = await keyring.ensureActiveKey();
      const token = await sign(keyring);
      const jwks = await keyring.publicJwks();
      expect(jwks.keys).toHaveLength(1);
      expect(jwks.keys[0]).toEqual({
        kty: 'OKP',
        crv: 'Ed25519',
        x: expect.any(String),
        kid,
        alg: 'EdDSA',
        use: 'sig',
      });
      // An independent path: jose's own JWKS resolver.
      const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
        issuer: ISSUER,
        audience: 'gatehouse',
        currentDate: new Date(clock.now()),
      });
      expect(protectedHeader).toEqual({ alg: 'EdDSA', kid, typ: 'at+jwt' });
      const verified = await keyring.verifyJwt(token, {
        issuer: ISSUER,
        audience: 'gatehouse',
        typ: 'at+jwt',
      });
      expect(verified.kid).toBe(kid);
    });

    it('rejects with invalid_token: wrong typ, audience, issuer, expiry, unknown kid, alg none, garbage', async () => {
      const keyring = keyringFor();
      const { kid } = await keyring.ensureActiveKey();
      const token = await sign(keyring, 60_000);
      const expect_ = { issuer: ISSUER, audience: 'gatehouse', typ: 'at+jwt' };
      expect(await codeOf(keyring.verifyJwt(token, { ...expect_, typ: 'jwt' }))).toBe('invalid_token');
      expect(await codeOf(keyring.verifyJwt(token, { ...expect_, audience: 'other' }))).toBe('invalid_token');
      expect(await codeOf(keyring.verifyJwt(token, { ...expect_, issuer: 'https://evil' }))).toBe(
        'invalid_token',
      );

      const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const [, payload] = token.split('.');
      const none = `${b64({ alg: 'none', kid, typ: 'at+jwt' })}.${payload}.`;
      expect(await codeOf(keyring.verifyJwt(none, expect_))).toBe('invalid_token');
      const hs = await new SignJWT({ iss: ISSUER, aud: 'gatehouse' })
        .setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' })
        .sign(new TextEncoder().encode('guessable'));
      expect(await codeOf(keyring.verifyJwt(hs, expect_))).toBe('invalid_token');
      const unknownKid = `${b64({ alg: 'EdDSA', kid: 'nope', typ: 'at+jwt' })}.${payload}.${token.split('.')[2]}`;
      expect(await codeOf(keyring.verifyJwt(unknownKid, expect_))).toBe('invalid_token');
      expect(await codeOf(keyring.verifyJwt('not.a.jwt', expect_))).toBe('invalid_token');

      clock.advance(2 * 60_000);
      expect(await codeOf(keyring.verifyJwt(token, expect_))).toBe('invalid_token');
    });

    it('signs audit checkpoints as a compact JWS over the canonical payload', async () => {
      const keyring = keyringFor();
      const { kid } = await keyring.ensureActiveKey();
      const payload = { seq: 42, hash: 'ab'.repeat(32), time: '2026-01-01T00:00:00.000Z' };
      const signed = await keyring.checkpointSigner.sign(payload);
      expect(signed.kid).toBe(kid);
      const jwks = createLocalJWKSet(await keyring.publicJwks());
      const verified = await compactVerify(signed.signature, jwks);
      expect(verified.protectedHeader).toEqual({ alg: 'EdDSA', kid });
      expect(new TextDecoder().decode(verified.payload)).toBe(canonicalJson(payload));
    });
  });

  describe('rotate', () => {
    it('keeps old tokens verifying until verify_until, signs new ones with the new kid, then drops the old key', async () => {
      const keyring = keyringFor();
      const { kid: oldKid } = await keyring.ensureActiveKey();
      const oldToken = await sign(keyring, 2 * HOUR); // outlives the verify window on purpose

      const rotated = await keyring.rotate('admin:tok_1');
      expect(rotated.retiredKid).toBe(oldKid);
      expect(rotated.kid).not.toBe(oldKid);
      expect(audit.records.at(-1)).toMatchObject({
        actor: 'admin:tok_1',
        action: 'signing_key.rotated',
        details: { kid: rotated.kid, retiredKid: oldKid, verifyUntil: clock.now() + HOUR },
      });
      const retired = await store.signingKeys.find(oldKid);
      expect(retired).toMatchObject({ status: 'retired', verifyUntil: clock.now() + HOUR });

      const newToken = await sign(keyring, 2 * HOUR);
      const options = { issuer: ISSUER, audience: 'gatehouse', typ: 'at+jwt' };
      expect((await keyring.verifyJwt(newToken, options)).kid).toBe(rotated.kid);
      expect((await keyring.verifyJwt(oldToken, options)).kid).toBe(oldKid);
      expect((await keyring.publicJwks()).keys.map((key) => key.kid)).toEqual([rotated.kid, oldKid]);

      // Another replica, started before or after, learns the new kid from the store.
      const replica = keyringFor();
      expect((await replica.verifyJwt(newToken, options)).kid).toBe(rotated.kid);

      clock.advance(HOUR + 1);
      expect((await keyring.publicJwks()).keys.map((key) => key.kid)).toEqual([rotated.kid]);
      expect(await codeOf(keyring.verifyJwt(oldToken, options))).toBe('invalid_token');
      expect(await codeOf(replica.verifyJwt(oldToken, options))).toBe('invalid_token');
      expect((await keyring.verifyJwt(newToken, options)).kid).toBe(rotated.kid);
    });

    it('two replicas rotating at once leave exactly one active key', async () => {
      const a = keyringFor();
      const b = keyringFor();
      const { kid: first } = await a.ensureActiveKey();
      const [ra, rb] = await Promise.all([a.rotate(), b.rotate()]);
      const keys = await store.signingKeys.list();
      expect(keys).toHaveLength(3);
      expect(keys.filter((key) => key.status === 'active')).toHaveLength(1);
      // One rotation retired the first key, the other retired the key the first rotation made.
      expect(new Set([ra.retiredKid, rb.retiredKid])).toContain(first);
      expect([ra.kid, rb.kid]).toContain(keys.find((key) => key.status === 'active')?.kid);
    });

    it('a replica that cached the old active key picks up a rotation done elsewhere after its cache expires', async () => {
      const a = keyringFor();
      const b = keyringFor();
      const { kid: first } = await a.ensureActiveKey();
      await b.ensureActiveKey();
      const { kid: second } = await a.rotate();
      clock.advance(11_000);
      const token = await sign(b);
      expect((await a.verifyJwt(token, { issuer: ISSUER, audience: 'gatehouse' })).kid).toBe(second);
      expect(second).not.toBe(first);
    });
  });
});
