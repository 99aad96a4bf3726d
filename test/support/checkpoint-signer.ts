import { CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { AuditCheckpoint, AuditEntry, CheckpointSigner } from '../../src/audit/types.js';
import { canonicalJson } from '../../src/lib/canonical-json.js';

export interface TestSigner {
  signer: CheckpointSigner;
  /** The public key, as a verifier finds it in a JWKS. */
  jwk: JWK;
  jwks: { keys: JWK[] };
  /** A checkpoint on `entry`, signed as the audit log would sign it. */
  checkpoint(entry: Pick<AuditEntry, 'seq' | 'hash'>, time?: string): Promise<AuditCheckpoint>;
}

/** A fresh audit checkpoint key pair: a signer for the audit log and the JWKS that verifies its checkpoints. */
export async function createTestSigner(
  kid = 'audit-key-1',
  alg: 'EdDSA' | 'ES256' = 'EdDSA',
): Promise<TestSigner> {
  const { publicKey, privateKey } =
    alg === 'EdDSA'
      ? await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
      : await generateKeyPair('ES256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg };
  const signer: CheckpointSigner = {
    async sign(payload) {
      const signature = await new CompactSign(new TextEncoder().encode(canonicalJson(payload)))
        .setProtectedHeader({ alg, kid })
        .sign(privateKey);
      return { kid, signature };
    },
  };
  return {
    signer,
    jwk,
    jwks: { keys: [jwk] },
    async checkpoint(entry, time = '2026-01-01T00:00:00.000Z') {
      const payload = { seq: entry.seq, hash: entry.hash, time };
      return { ...payload, ...(await signer.sign(payload)) };
    },
  };
}
