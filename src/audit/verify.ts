import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JWK } from 'jose';
import { GatehouseError } from '../errors/index.js';
import { type ChainHead, hashAuditEntry } from './chain.js';
import { type AuditCheckpoint, type AuditEntry, GENESIS_HASH } from './types.js';

export type AuditProblemCode =
  /** An entry is missing: the seq after the previous one was skipped. */
  | 'seq_gap'
  /** An entry repeats or goes back to an earlier seq (an inserted or moved entry). */
  | 'seq_order'
  | 'prev_hash_mismatch'
  | 'hash_mismatch'
  | 'checkpoint_signature_invalid'
  /** A checkpoint's signed payload disagrees with its record or with the entry at its seq. */
  | 'checkpoint_mismatch'
  /** A verified checkpoint names a seq past the last entry: trailing entries were removed. */
  | 'chain_truncated'
  /** Required: the last entry is not covered by a verified checkpoint. */
  | 'checkpoint_missing_at_end'
  /** Required: no checkpoint could be verified at all. */
  | 'no_verified_checkpoint';

export interface AuditVerifyReport {
  ok: boolean;
  /** Entries checked (up to the first problem). */
  entries: number;
  /** Seq and hash of the last entry that checked out. */
  lastSeq: number;
  lastHash: string;
  /** Checkpoints whose signature verified, and those signed by a key no longer in the JWKS. */
  checkpoints: { verified: number; unverifiable: number };
  /** The first seq that cannot be trusted: the modified, missing, moved or inserted entry. */
  firstBadSeq?: number;
  problem?: { code: AuditProblemCode; message: string };
}

export interface AuditVerifyInput {
  /** In seq order, as stored or exported. */
  entries: Iterable<AuditEntry> | AsyncIterable<AuditEntry>;
  checkpoints: readonly AuditCheckpoint[];
  jwks: { keys: JWK[] };
  /**
   * Demand a verified checkpoint on the last entry. Without it, removing trailing entries, appending forged
   * ones, or re-forging the whole chain cannot be told from a chain that simply has not been checkpointed yet.
   */
  requireCheckpointAtEnd?: boolean;
  /** Verify a segment: the entries continue the chain after this head (default: the genesis). */
  after?: ChainHead;
}

const CHECKPOINT_ALGORITHMS = ['EdDSA', 'ES256'];

type AssessedCheckpoint =
  | { status: 'verified'; seq: number; hash: string }
  | { status: 'unverifiable'; seq: number }
  | { status: 'bad'; seq: number; code: AuditProblemCode; message: string };

interface Failure {
  seq: number | undefined;
  code: AuditProblemCode;
  message: string;
}

/**
 * Verifies an audit trail: seq continuity, hash links, each entry's hash, and each checkpoint's signature and
 * agreement with the chain. Stops at the first problem and names the first seq that cannot be trusted.
 */
export async function verifyAuditTrail(input: AuditVerifyInput): Promise<AuditVerifyReport> {
  let keySet: ReturnType<typeof createLocalJWKSet>;
  try {
    keySet = createLocalJWKSet(input.jwks);
  } catch (cause) {
    throw new GatehouseError('invalid_request', 'the `jwks` is not a JSON Web Key Set', { cause });
  }
  const assessed = await Promise.all(
    input.checkpoints.map((checkpoint) => assessCheckpoint(checkpoint, input.jwks, keySet)),
  );
  const checkpoints = {
    verified: assessed.filter((item) => item.status === 'verified').length,
    unverifiable: assessed.filter((item) => item.status === 'unverifiable').length,
  };
  const bySeq = new Map<number, AssessedCheckpoint[]>();
  for (const item of assessed) {
    const list = bySeq.get(item.seq);
    if (list) list.push(item);
    else bySeq.set(item.seq, [item]);
  }

  let count = 0;
  let lastSeq = input.after?.seq ?? 0;
  let lastHash = input.after?.hash ?? GENESIS_HASH;
  let lastCoveredSeq = 0;
  let failure: Failure | undefined;

  for await (const entry of input.entries) {
    const expected = lastSeq + 1;
    if (entry.seq !== expected) {
      failure =
        entry.seq > expected
          ? { seq: expected, code: 'seq_gap', message: `expected seq ${expected}, found \`${entry.seq}\`` }
          : {
              seq: entry.seq,
              code: 'seq_order',
              message: `seq \`${entry.seq}\` appears after seq ${lastSeq}`,
            };
      break;
    }
    if (hashAuditEntry(entry) !== entry.hash) {
      failure = {
        seq: entry.seq,
        code: 'hash_mismatch',
        message: `entry ${entry.seq} does not match its hash`,
      };
      break;
    }
    if (entry.prevHash !== lastHash) {
      failure = {
        seq: entry.seq,
        code: 'prev_hash_mismatch',
        message: `entry ${entry.seq} does not link to the hash of entry ${lastSeq}`,
      };
      break;
    }
    count += 1;
    lastSeq = entry.seq;
    lastHash = entry.hash;

    const atSeq = bySeq.get(entry.seq);
    if (!atSeq) continue;
    bySeq.delete(entry.seq);
    for (const item of atSeq) {
      if (item.status === 'bad') {
        failure = item;
        break;
      }
      if (item.status !== 'verified') continue;
      if (item.hash !== entry.hash) {
        failure = {
          seq: entry.seq,
          code: 'checkpoint_mismatch',
          message: `the checkpoint at seq ${entry.seq} signs a different hash than the entry`,
        };
        break;
      }
      lastCoveredSeq = entry.seq;
    }
    if (failure) break;
  }

  if (!failure) failure = checkLeftovers(bySeq, lastSeq);
  if (!failure && input.requireCheckpointAtEnd) {
    if (lastCoveredSeq === 0) {
      failure = {
        seq: count > 0 ? 1 : undefined,
        code: 'no_verified_checkpoint',
        message: 'no checkpoint signed by a known key covers the chain',
      };
    } else if (lastCoveredSeq !== lastSeq) {
      failure = {
        seq: lastCoveredSeq + 1,
        code: 'checkpoint_missing_at_end',
        message: `entries after seq ${lastCoveredSeq} are not covered by a verified checkpoint`,
      };
    }
  }

  const report: AuditVerifyReport = {
    ok: failure === undefined,
    entries: count,
    lastSeq,
    lastHash,
    checkpoints,
  };
  if (failure) {
    if (failure.seq !== undefined) report.firstBadSeq = failure.seq;
    report.problem = { code: failure.code, message: failure.message };
  }
  return report;
}

/** Checkpoints that matched no entry: past the end (truncation), or never reachable. */
function checkLeftovers(bySeq: Map<number, AssessedCheckpoint[]>, lastSeq: number): Failure | undefined {
  const leftovers = [...bySeq.values()].flat().sort((a, b) => a.seq - b.seq);
  for (const item of leftovers) {
    if (item.status === 'unverifiable') continue;
    if (item.status === 'bad') return item;
    if (item.seq > lastSeq) {
      return {
        seq: lastSeq + 1,
        code: 'chain_truncated',
        message: `a verified checkpoint covers seq ${item.seq} but the chain ends at seq ${lastSeq}`,
      };
    }
    return {
      seq: undefined,
      code: 'checkpoint_mismatch',
      message: `a checkpoint names seq \`${item.seq}\`, which no entry has`,
    };
  }
  return undefined;
}

async function assessCheckpoint(
  checkpoint: AuditCheckpoint,
  jwks: { keys: JWK[] },
  keySet: ReturnType<typeof createLocalJWKSet>,
): Promise<AssessedCheckpoint> {
  const seq = checkpoint.seq;
  const bad = (code: AuditProblemCode, message: string): AssessedCheckpoint => ({
    status: 'bad',
    seq,
    code,
    message,
  });
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(checkpoint.signature).kid;
  } catch {
    return bad('checkpoint_signature_invalid', `the checkpoint at seq ${seq} is not a compact JWS`);
  }
  if (kid !== checkpoint.kid) {
    return bad(
      'checkpoint_mismatch',
      `the checkpoint at seq ${seq} names kid \`${checkpoint.kid}\` but is signed as another`,
    );
  }
  // A retired key has left the JWKS: this checkpoint proves nothing, but a later one covers the same prefix.
  if (!jwks.keys.some((key) => key.kid === kid)) return { status: 'unverifiable', seq };

  let payload: unknown;
  try {
    const result = await compactVerify(checkpoint.signature, keySet, {
      algorithms: CHECKPOINT_ALGORITHMS,
    });
    payload = JSON.parse(new TextDecoder().decode(result.payload));
  } catch {
    return bad(
      'checkpoint_signature_invalid',
      `the signature of the checkpoint at seq ${seq} does not verify`,
    );
  }
  const signed = payload as { seq?: unknown; hash?: unknown; time?: unknown } | null;
  if (
    typeof signed !== 'object' ||
    signed === null ||
    signed.seq !== checkpoint.seq ||
    signed.hash !== checkpoint.hash ||
    signed.time !== checkpoint.time
  ) {
    return bad('checkpoint_mismatch', `the checkpoint at seq ${seq} does not match its signed payload`);
  }
  return { status: 'verified', seq, hash: checkpoint.hash };
}
