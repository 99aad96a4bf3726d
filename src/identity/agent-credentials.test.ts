import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, importJWK, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../../test/support/errors.js';
import { generateAgentKeyPair, parsePublicKey } from './agent-credentials.js';

describe('generateAgentKeyPair', () => {
  it.each(['EdDSA', 'ES256'] as const)(
    'makes a %s pair whose private half signs what the public half verifies',
    async (alg) => {
      const pair = await generateAgentKeyPair(alg);
      expect(pair.alg).toBe(alg);
      expect(pair.publicJwk).not.toHaveProperty('d');
      expect(pair.privateJwk).toHaveProperty('d');
      expect(pair.privateJwk.kid).toBe(pair.kid);
      expect(pair.privateKeyPem).toContain('BEGIN PRIVATE KEY');
      expect(pair.kid).toBe(await calculateJwkThumbprint(pair.publicJwk, 'sha256'));
      const jwt = await new SignJWT({ sub: 'x' })
        .setProtectedHeader({ alg, kid: pair.kid })
        .sign(await importJWK(pair.privateJwk, alg));
      const { payload } = await jwtVerify(jwt, await importJWK(pair.publicJwk, alg), { algorithms: [alg] });
      expect(payload.sub).toBe('x');
    },
  );

  it('round-trips through parsePublicKey unchanged', async () => {
    const pair = await generateAgentKeyPair();
    const parsed = await parsePublicKey(pair.publicJwk);
    expect(parsed).toEqual({ alg: 'EdDSA', publicJwk: pair.publicJwk, kid: pair.kid });
  });
});

describe('parsePublicKey', () => {
  it('accepts a JWK object, JWK JSON text and an SPKI PEM, and strips extra members', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const fromObject = await parsePublicKey({ ...jwk, kid: 'theirs', alg: 'ES256', use: 'sig', note: 'x' });
    expect(fromObject.alg).toBe('ES256');
    expect(Object.keys(fromObject.publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    const fromText = await parsePublicKey(JSON.stringify(jwk));
    const fromPem = await parsePublicKey(publicKey.export({ format: 'pem', type: 'spki' }).toString());
    expect(fromText).toEqual(fromObject);
    expect(fromPem).toEqual(fromObject);
  });

  it('accepts an Ed25519 SPKI PEM', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const parsed = await parsePublicKey(publicKey.export({ format: 'pem', type: 'spki' }).toString());
    expect(parsed.alg).toBe('EdDSA');
    expect(parsed.publicJwk.kty).toBe('OKP');
  });

  it('refuses private keys in every form: the server never takes custody of them', async () => {
    const pair = await generateAgentKeyPair();
    expect(await codeOf(parsePublicKey(pair.privateJwk))).toBe('invalid_public_key');
    expect(await codeOf(parsePublicKey(JSON.stringify(pair.privateJwk)))).toBe('invalid_public_key');
    expect(await codeOf(parsePublicKey(pair.privateKeyPem))).toBe('invalid_public_key');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(
      await codeOf(parsePublicKey(ec.privateKey.export({ format: 'pem', type: 'sec1' }).toString())),
    ).toBe('invalid_public_key');
  });

  it('refuses other key types, curves, symmetric keys and garbage', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const secp = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const ed448 = generateKeyPairSync('ed448');
    const cases: (string | object)[] = [
      rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      rsa.publicKey.export({ format: 'jwk' }),
      secp.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      ed448.publicKey.export({ format: 'jwk' }),
      { kty: 'oct', k: 'c2VjcmV0' },
      { kty: 'OKP', crv: 'Ed25519', x: 'too-short' },
      { kty: 'OKP', crv: 'Ed25519' },
      [],
      'hello',
      '{not json',
      `-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----`,
      'A'.repeat(10_000),
    ];
    for (const input of cases) expect(await codeOf(parsePublicKey(input))).toBe('invalid_public_key');
  });

  it('refuses a JWK whose alg or use contradicts the key', async () => {
    const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    expect(await codeOf(parsePublicKey({ ...jwk, alg: 'ES256' }))).toBe('invalid_public_key');
    expect(await codeOf(parsePublicKey({ ...jwk, use: 'enc' }))).toBe('invalid_public_key');
  });

  it('refuses a P-256 point that is not on the curve', async () => {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const y = Buffer.from(jwk.y as string, 'base64url');
    y[0] = (y[0] ?? 0) ^ 0xff;
    expect(await codeOf(parsePublicKey({ ...jwk, y: y.toString('base64url') }))).toBe('invalid_public_key');
  });
});
