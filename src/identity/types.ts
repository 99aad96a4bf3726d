/** Identity records: Gatehouse's own signing keys and admin tokens. Times are milliseconds since the epoch. */

export const SIGNING_KEY_STATUSES = ['active', 'retired'] as const;
export type SigningKeyStatus = (typeof SIGNING_KEY_STATUSES)[number];

export interface SigningKey {
  kid: string;
  alg: 'EdDSA';
  publicJwk: Record<string, unknown>;
  /** The private JWK, encrypted with the master key (AES-256-GCM), base64url. Never leaves the store in clear. */
  privateJwkEncrypted: string;
  status: SigningKeyStatus;
  createdAt: number;
  retiredAt: number | null;
  /** Tokens signed with a retired key verify until this time; it then leaves the JWKS. */
  verifyUntil: number | null;
}

/** `pep`: a policy enforcement point (another gateway, a service) that may only ask for decisions. */
export const ADMIN_ROLES = ['admin', 'reviewer', 'approver', 'auditor', 'pep'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export interface AdminToken {
  id: string;
  name: string;
  role: AdminRole;
  /** The human the token speaks for, when bound; reviews and approvals need one. */
  userId: string | null;
  /** SHA-256 of the secret, hex; the secret itself is shown once and never stored. */
  tokenHash: string;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
  lastUsedAt: number | null;
}
