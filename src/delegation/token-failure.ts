import { GatehouseError } from '../errors/index.js';

/** The keyring's `invalid_token` with the jose failure as the audit reason. */
export function withFailureReason(error: unknown): unknown {
  if (!(error instanceof GatehouseError) || error.details?.reason) return error;
  const cause = error.cause as { code?: string; claim?: string } | undefined;
  const reason =
    cause?.code === 'ERR_JWT_EXPIRED'
      ? 'expired'
      : cause?.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
        ? 'signature'
        : cause?.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
          ? (cause.claim ?? 'claims')
          : error.message.includes('signing key')
            ? 'kid'
            : 'malformed';
  return new GatehouseError(error.code, error.message, { cause: error.cause, details: { reason } });
}
