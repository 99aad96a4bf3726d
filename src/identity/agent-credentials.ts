import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { GatehouseError } from '../errors/index.js';
import type { AgentKeyAlg } from '../registry/types.js';

/** A freshly generated agent key pair. The private half goes to the agent and is never stored by Gatehouse. */
export interface AgentKeyPair {
  alg: AgentKeyAlg;
  /** RFC 7638 thumbprint of the public key. */
  kid: string;
  /** Public members only: what registration stores. */
  publicJwk: JWK;
  /** The private JWK, with `kid` and `alg` set so an agent can sign with it as is. */
  privateJwk: JWK;
  /** The same private key as a PKCS#8 PEM. */
  privateKeyPem: string;
}

export interface ParsedPublicKey {
  alg: AgentKeyAlg;
  /** Public members only (`kty`, `crv`, `x`, and `y` for P-256), whatever else the input carried. */
  publicJwk: JWK;
  kid: string;
}

/** Longest key text accepted; real Ed25519/P-256 keys are far smaller. */
const MAX_KEY_INPUT_LENGTH = 8192;
/** JWK members that only a private or symmetric key has. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth', 'priv'];

/** Generates a key pair an agent signs its client assertions with (Ed25519 by default, or P-256). */
export async function generateAgentKeyPair(alg: AgentKeyAlg = 'EdDSA'): Promise<AgentKeyPair> {
  const { privateKey, publicKey } =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = publicMembers(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return {
    alg,
    kid,
    publicJwk,
    privateJwk: { ...(privateKey.export({ format: 'jwk' }) as JWK), kid, alg },
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/**
 * Reads an agent's public key from a JWK (object or JSON text) or an SPKI PEM. Only Ed25519 and P-256 keys are
 * accepted, and private keys are refused outright: Gatehouse never takes custody of an agent's private key.
 */
export async function parsePublicKey(input: string | object): Promise<ParsedPublicKey> {
  const keyObject = typeof input === 'string' ? parseKeyText(input) : parseJwkObject(input);
  const alg = algorithmOf(keyObject);
  const publicJwk = publicMembers(keyObject);
  return { alg, publicJwk, kid: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

function parseKeyText(text: string): KeyObject {
  if (text.length > MAX_KEY_INPUT_LENGTH) {
    throw new GatehouseError(
      'invalid_public_key',
      `the public key exceeds ${MAX_KEY_INPUT_LENGTH} characters`,
    );
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new GatehouseError('invalid_public_key', 'the public key is neither valid JSON nor a PEM');
    }
    return parseJwkObject(parsed);
  }
  if (/PRIVATE KEY-----/.test(trimmed)) throw privateKeyRefused();
  const match = /^-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----$/.exec(trimmed);
  if (!match) {
    throw new GatehouseError(
      'invalid_public_key',
      'expected a public JWK or a `BEGIN PUBLIC KEY` (SPKI) PEM',
    );
  }
  try {
    return createPublicKey({ key: trimmed, format: 'pem', type: 'spki' });
  } catch (cause) {
    throw new GatehouseError('invalid_public_key', 'the PEM does not hold a readable public key', { cause });
  }
}

function parseJwkObject(value: unknown): KeyObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GatehouseError('invalid_public_key', 'the public key JWK must be a JSON object');
  }
  const jwk = value as Record<string, unknown>;
  if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) throw privateKeyRefused();
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    throw new GatehouseError('invalid_public_key', 'the JWK `use` must be `sig`');
  }
  const kty = jwk.kty;
  const crv = jwk.crv;
  const supported = (kty === 'OKP' && crv === 'Ed25519') || (kty === 'EC' && crv === 'P-256');
  if (!supported) {
    throw new GatehouseError(
      'invalid_public_key',
      'only Ed25519 (`OKP`) and P-256 (`EC`) keys are accepted',
      {
        details: { kty: typeof kty === 'string' ? kty : null, crv: typeof crv === 'string' ? crv : null },
      },
    );
  }
  if (jwk.alg !== undefined && jwk.alg !== (kty === 'OKP' ? 'EdDSA' : 'ES256')) {
    throw new GatehouseError('invalid_public_key', `the JWK \`alg\` does not fit a ${crv} key`);
  }
  const members = kty === 'OKP' ? { kty, crv, x: jwk.x } : { kty, crv, x: jwk.x, y: jwk.y };
  if (Object.values(members).some((member) => typeof member !== 'string')) {
    throw new GatehouseError('invalid_public_key', 'the JWK lacks its public coordinates');
  }
  try {
    // Node validates the coordinates (length, point on the curve).
    return createPublicKey({ key: members as JWK & { kty: string }, format: 'jwk' });
  } catch (cause) {
    throw new GatehouseError('invalid_public_key', 'the JWK does not hold a valid public key', { cause });
  }
}

function algorithmOf(key: KeyObject): AgentKeyAlg {
  if (key.type !== 'public') throw privateKeyRefused();
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new GatehouseError('invalid_public_key', 'only Ed25519 and P-256 keys are accepted', {
    details: { keyType: key.asymmetricKeyType ?? null },
  });
}

function publicMembers(key: KeyObject): JWK {
  const jwk = key.export({ format: 'jwk' });
  return jwk.kty === 'EC'
    ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }
    : { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
}

function privateKeyRefused(): GatehouseError {
  return new GatehouseError(
    'invalid_public_key',
    'that is a private key: register the public key only, and keep the private key with the agent',
  );
}
