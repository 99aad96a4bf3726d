/** One link of the tamper-evident chain. `hash` = SHA-256 over the RFC 8785 canonical JSON of the other fields. */
export interface AuditEntry {
  seq: number;
  /** ISO 8601 UTC with milliseconds. */
  time: string;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/**
 * An entry before the chain has placed it. Its details travel as their RFC 8785 text only, the exact bytes that
 * are hashed and stored: build one with `toAuditEvent`.
 */
export type AuditEvent = Pick<AuditEntry, 'time' | 'actor' | 'action' | 'target'> & { detailsJson: string };

/** A placed entry with the exact details text that was hashed, as the store writes it. */
export interface ChainedAuditEntry extends AuditEntry {
  detailsJson: string;
}

/** A signed statement that the chain up to `seq` ends in `hash`: a compact JWS by a gateway signing key. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  time: string;
  kid: string;
  signature: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** What a domain module tells the audit log; the log adds time, seq and hashes. */
export interface AuditRecord {
  /** Who acted: `admin:<token id>`, `cli:<os user>@<host>`, `agent:<agent id>`, `system`. */
  actor: string;
  /** A dotted event name, e.g. `agent.registered`, `token.issued`, `client_assertion.rejected`. */
  action: string;
  target?: string | null;
  details?: Record<string, unknown>;
}

/** The port domain modules record through; the audit log implements it with group commit. */
export interface AuditRecorder {
  /** Resolves once the entry is durable in the store. */
  record(record: AuditRecord): Promise<AuditEntry>;
}

/** Signs audit checkpoints with a gateway key: a compact JWS over the canonical JSON of the payload. */
export interface CheckpointSigner {
  sign(payload: { seq: number; hash: string; time: string }): Promise<{ kid: string; signature: string }>;
}
