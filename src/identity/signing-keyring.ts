import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  CompactSign,
  calculateJwkThumbprint,
  decodeProtectedHeader,
  type JWK,
  type JWTPayload,
  type JWTVerifyResult,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { AuditRecorder, CheckpointSigner } from '../audit/types.js';
import { GatehouseError } from '../errors/index.js';
import { canonicalJson } from '../lib/canonical-json.js';
import type { Clock } from '../lib/clock.js';
import type { Store } from '../store/index.js';
import { UniqueViolationError } from '../store/index.js';
import { decryptSecret, encryptSecret } from './master-key.js';
import type { SigningKey } from './types.js';

export interface SigningKeyringOptions {
  store: Store;
  /** The 32-byte master key that seals private keys at rest. */
  masterKey: Uint8Array;
  clock: Clock;
  audit: AuditRecorder;
  /** Who generated or rotated keys when the caller does not say; defaults to `system`. */
  actor?: string;
  /**
   * How long tokens signed by a retired key keep verifying. Make it at least the longest token lifetime plus
   * clock skew plus `cacheTtlMs`: another replica may sign with the old key until its cache expires.
   */
  retiredKeyVerifyMs: number;
  /** How long the key list read from the store is trusted before it is read again (other replicas rotate). */
  cacheTtlMs?: number;
}

/** A public JWK as published: public members plus kid, alg and use. */
export type PublishedJwk = JWK & { kid: string; alg: 'EdDSA'; use: 'sig' };

export interface SignJwtOptions {
  /** The JOSE `typ` header, e.g. `at+jwt`. */
  typ?: string;
}

export interface VerifyJwtOptions {
  audience: string | string[];
  issuer: string;
  /** When set, the `typ` header must equal it. */
  typ?: string;
  requiredClaims?: string[];
  /** Tolerated clock difference, in milliseconds. */
  clockSkewMs?: number;
  /** The time to check against; the keyring's clock when absent. */
  now?: number;
}

export interface SigningKeyring {
  /** Makes sure an active key exists (creating one on first start) and that the master key opens it. */
  ensureActiveKey(actor?: string): Promise<{ kid: string; created: boolean }>;
  /** Retires the active key (it verifies for `retiredKeyVerifyMs` more) and activates a fresh one. */
  rotate(actor?: string): Promise<{ kid: string; retiredKid: string | null }>;
  /** The keys verifiers should trust now: the active key and retired keys still inside their verify window. */
  publicJwks(): Promise<{ keys: PublishedJwk[] }>;
  /**
   * Every key Gatehouse ever signed with, retired or not: audit checkpoints must verify forever, long after a key
   * has left the token JWKS.
   */
  auditJwks(): Promise<{ keys: PublishedJwk[] }>;
  /** Signs a JWT with the active key; the caller supplies every claim. */
  signJwt(payload: JWTPayload, options?: SignJwtOptions): Promise<string>;
  /** Verifies a JWT signed by one of the published keys; only EdDSA is accepted. Fails with `invalid_token`. */
  verifyJwt(token: string, options: VerifyJwtOptions): Promise<JWTVerifyResult & { kid: string }>;
  checkpointSigner: CheckpointSigner;
}

interface CachedKey {
  record: SigningKey;
  publicKey: KeyObject;
  /** Decrypted on first use for signing; only the active key ever needs it. */
  privateKey?: KeyObject;
}

const ROTATE_ATTEMPTS = 3;

/** Creates the keyring that holds Gatehouse's own Ed25519 signing keys, stored sealed by the master key. */
export function createSigningKeyring(options: SigningKeyringOptions): SigningKeyring {
  const { store, masterKey, clock, audit } = options;
  const defaultActor = options.actor ?? 'system';
  const cacheTtlMs = options.cacheTtlMs ?? 10_000;
  const cache = new Map<string, CachedKey>();
  let loadedAt = Number.NEGATIVE_INFINITY;

  const remember = (record: SigningKey): CachedKey => {
    const previous = cache.get(record.kid);
    if (previous) {
      previous.record = record; // status and verify window may have changed; the key material has not
      return previous;
    }
    const entry: CachedKey = {
      record,
      publicKey: createPublicKey({ key: record.publicJwk as JWK, format: 'jwk' }),
    };
    cache.set(record.kid, entry);
    return entry;
  };

  const reload = async (): Promise<void> => {
    const records = await store.signingKeys.list();
    for (const record of records) remember(record);
    loadedAt = clock.now();
  };

  const fresh = async (): Promise<void> => {
    const now = clock.now();
    if (now - loadedAt > cacheTtlMs || now < loadedAt) await reload();
  };

  const isPublished = (record: SigningKey, now: number): boolean =>
    record.status === 'active' || (record.verifyUntil !== null && record.verifyUntil > now);

  const activeEntry = async (): Promise<CachedKey> => {
    await fresh();
    let active = [...cache.values()].find((entry) => entry.record.status === 'active');
    if (!active) {
      await reload();
      active = [...cache.values()].find((entry) => entry.record.status === 'active');
    }
    if (!active) throw new GatehouseError('internal_error', 'no active signing key', { expose: false });
    active.privateKey ??= openPrivateKey(masterKey, active.record);
    return active;
  };

  const lookup = async (kid: string): Promise<CachedKey | undefined> => {
    await fresh();
    const cached = cache.get(kid);
    if (cached) return cached;
    // Another replica may have rotated since we last read; one primary-key read, no full reload.
    const record = await store.signingKeys.find(kid);
    return record && remember(record);
  };

  const ensureActiveKey: SigningKeyring['ensureActiveKey'] = async (actor = defaultActor) => {
    const existing = await store.signingKeys.findActive();
    if (existing) {
      // Opening it now turns a wrong master key into a start-up failure rather than a failure on first use.
      remember(existing).privateKey ??= openPrivateKey(masterKey, existing);
      return { kid: existing.kid, created: false };
    }
    const generated = await generateSigningKey(masterKey, clock.now());
    try {
      await store.signingKeys.insert(generated.record);
    } catch (error) {
      // Another process won the race for the one active slot: use its key.
      if (!(error instanceof UniqueViolationError)) throw error;
      const winner = await store.signingKeys.findActive();
      if (!winner) throw error;
      remember(winner).privateKey ??= openPrivateKey(masterKey, winner);
      return { kid: winner.kid, created: false };
    }
    remember(generated.record).privateKey = generated.privateKey;
    await audit.record({
      actor,
      action: 'signing_key.generated',
      target: `signing_key:${generated.record.kid}`,
      details: { kid: generated.record.kid, alg: 'EdDSA' },
    });
    return { kid: generated.record.kid, created: true };
  };

  const rotate: SigningKeyring['rotate'] = async (actor = defaultActor) => {
    for (let attempt = 1; ; attempt += 1) {
      const now = clock.now();
      const verifyUntil = now + options.retiredKeyVerifyMs;
      const generated = await generateSigningKey(masterKey, now);
      const outcome = await store
        .transaction(async (tx) => {
          const active = await tx.signingKeys.findActive();
          if (active && !(await tx.signingKeys.retire(active.kid, now, verifyUntil))) return 'raced' as const;
          await tx.signingKeys.insert(generated.record);
          return { retiredKid: active?.kid ?? null };
        })
        .catch((error: unknown) => {
          // Another writer activated a key in between (the one-active index refused ours); rolled back, retry.
          if (error instanceof UniqueViolationError) return 'raced' as const;
          throw error;
        });
      if (outcome === 'raced') {
        // A concurrent rotation retired the key between our read and our update; try again on the new state.
        if (attempt >= ROTATE_ATTEMPTS) {
          throw new GatehouseError('internal_error', 'signing key rotation kept racing', { expose: false });
        }
        continue;
      }
      await reload();
      const entry = cache.get(generated.record.kid);
      if (entry) entry.privateKey = generated.privateKey;
      await audit.record({
        actor,
        action: 'signing_key.rotated',
        target: `signing_key:${generated.record.kid}`,
        details: { kid: generated.record.kid, retiredKid: outcome.retiredKid, verifyUntil },
      });
      return { kid: generated.record.kid, retiredKid: outcome.retiredKid };
    }
  };

  const publicJwks: SigningKeyring['publicJwks'] = async () => {
    await fresh();
    const now = clock.now();
    const keys = [...cache.values()]
      .filter((entry) => isPublished(entry.record, now))
      .sort((a, b) => Number(b.record.status === 'active') - Number(a.record.status === 'active'))
      .map((entry) => publishedJwk(entry.record));
    return { keys };
  };

  const auditJwks: SigningKeyring['auditJwks'] = async () => ({
    keys: (await store.signingKeys.list()).map(publishedJwk),
  });

  const signJwt: SigningKeyring['signJwt'] = async (payload, signOptions = {}) => {
    const active = await activeEntry();
    const header = {
      alg: 'EdDSA',
      kid: active.record.kid,
      ...(signOptions.typ ? { typ: signOptions.typ } : {}),
    };
    return new SignJWT(payload).setProtectedHeader(header).sign(active.privateKey as KeyObject);
  };

  const verifyJwt: SigningKeyring['verifyJwt'] = async (token, verifyOptions) => {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch (cause) {
      throw new GatehouseError('invalid_token', 'the token is not a compact JWS', { cause });
    }
    if (typeof kid !== 'string' || kid.length === 0 || kid.length > 128) {
      throw new GatehouseError('invalid_token', 'the token names no known signing key');
    }
    const entry = await lookup(kid);
    const now = verifyOptions.now ?? clock.now();
    if (!entry || !isPublished(entry.record, now)) {
      throw new GatehouseError('invalid_token', 'the token names no known signing key');
    }
    try {
      const result = await jwtVerify(token, entry.publicKey, {
        algorithms: ['EdDSA'],
        audience: verifyOptions.audience,
        issuer: verifyOptions.issuer,
        ...(verifyOptions.typ ? { typ: verifyOptions.typ } : {}),
        requiredClaims: verifyOptions.requiredClaims ?? [],
        currentDate: new Date(now),
        clockTolerance: Math.floor((verifyOptions.clockSkewMs ?? 0) / 1000),
      });
      return { ...result, kid };
    } catch (cause) {
      const expired = (cause as { code?: unknown }).code === 'ERR_JWT_EXPIRED';
      throw new GatehouseError(
        'invalid_token',
        expired ? 'the token has expired' : 'the token is not valid',
        {
          cause,
        },
      );
    }
  };

  const checkpointSigner: CheckpointSigner = {
    async sign(payload) {
      const active = await activeEntry();
      const bytes = new TextEncoder().encode(
        canonicalJson({ seq: payload.seq, hash: payload.hash, time: payload.time }),
      );
      const signature = await new CompactSign(bytes)
        .setProtectedHeader({ alg: 'EdDSA', kid: active.record.kid })
        .sign(active.privateKey as KeyObject);
      return { kid: active.record.kid, signature };
    },
  };

  return { ensureActiveKey, rotate, publicJwks, auditJwks, signJwt, verifyJwt, checkpointSigner };
}

/** Only the public members, so a stored row can never leak private parts into the JWKS. */
function publishedJwk(record: SigningKey): PublishedJwk {
  const { kty, crv, x } = record.publicJwk as { kty?: string; crv?: string; x?: string };
  return { kty, crv, x, kid: record.kid, alg: 'EdDSA', use: 'sig' };
}

async function generateSigningKey(
  masterKey: Uint8Array,
  now: number,
): Promise<{ record: SigningKey; privateKey: KeyObject }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const exported = publicKey.export({ format: 'jwk' });
  const publicJwk = { kty: exported.kty, crv: exported.crv, x: exported.x };
  const kid = await calculateJwkThumbprint(publicJwk as JWK, 'sha256');
  const privateJwk = JSON.stringify(privateKey.export({ format: 'jwk' }));
  return {
    privateKey,
    record: {
      kid,
      alg: 'EdDSA',
      publicJwk,
      privateJwkEncrypted: encryptSecret(masterKey, privateJwk, signingKeyContext(kid)),
      status: 'active',
      createdAt: now,
      retiredAt: null,
      verifyUntil: null,
    },
  };
}

function openPrivateKey(masterKey: Uint8Array, record: SigningKey): KeyObject {
  const jwk = JSON.parse(
    decryptSecret(masterKey, record.privateJwkEncrypted, signingKeyContext(record.kid)),
  ) as JWK;
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

/** Binds each sealed private key to its kid, so rows cannot be swapped. */
function signingKeyContext(kid: string): string {
  return `gatehouse:signing_key:${kid}`;
}
