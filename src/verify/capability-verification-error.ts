/** Every reason a capability can be refused, as stable codes callers switch on. */
export const CAPABILITY_ERROR_CODES = [
  'capability_missing',
  'capability_invalid',
  'capability_expired',
  'capability_replayed',
  'capability_mismatch',
  'jwks_unavailable',
] as const;

export type CapabilityErrorCode = (typeof CAPABILITY_ERROR_CODES)[number];

/**
 * Why a capability was refused. `code` is stable; the message is lowercase, safe to log, and never carries
 * argument values or the token.
 */
export class CapabilityVerificationError extends Error {
  readonly code: CapabilityErrorCode;

  constructor(code: CapabilityErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CapabilityVerificationError';
    this.code = code;
  }
}

/** True for a CapabilityVerificationError, whichever copy of this module created it. */
export function isCapabilityVerificationError(value: unknown): value is CapabilityVerificationError {
  return (
    value instanceof CapabilityVerificationError ||
    (value instanceof Error &&
      value.name === 'CapabilityVerificationError' &&
      (CAPABILITY_ERROR_CODES as readonly unknown[]).includes((value as { code?: unknown }).code))
  );
}
