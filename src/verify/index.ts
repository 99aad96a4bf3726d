// The verifier tool servers import as `gatehouse/verify`. It must stay standalone: only `jose`, `canonicalize`
// and `node:*`, never the rest of Gatehouse (a test enforces it).
export { argsSha256 } from './args-sha256.js';
export {
  type CapabilitySources,
  capabilityFromRequest,
  type HeaderSource,
} from './capability-from-request.js';
export {
  CAPABILITY_ERROR_CODES,
  type CapabilityErrorCode,
  CapabilityVerificationError,
  isCapabilityVerificationError,
} from './capability-verification-error.js';
export {
  CAPABILITY_HEADER,
  CAPABILITY_META_KEY,
  CAPABILITY_TYP,
  MAX_CAPABILITY_LENGTH,
  MAX_CAPABILITY_LIFETIME_SECONDS,
} from './constants.js';
export {
  type CapabilityCall,
  type CapabilityVerifier,
  type CapabilityVerifierOptions,
  createCapabilityVerifier,
} from './create-capability-verifier.js';
export {
  createMemoryReplayCache,
  type MemoryReplayCache,
  type MemoryReplayCacheOptions,
  type ReplayCache,
} from './replay-cache.js';
export type { ActClaim, CapabilityClaims } from './types.js';
