export {
  createIdpVerifier,
  type IdpIdentity,
  type IdpVerifier,
  type IdpVerifierOptions,
  sharedIdpVerifier,
} from './idp-verifier.js';
export { ASYMMETRIC_ALGORITHMS, screenJwtHeader } from './jwt-header.js';
