export {
  checkSecretName,
  checkSecretValue,
  MAX_SECRET_BYTES,
  MAX_SECRET_DESCRIPTION,
  SECRET_NAME_PATTERN,
} from './secret-input.js';
export type { RevealOptions, SecretInfo, SetSecretInput, Vault } from './types.js';
export { resolveUpstreamCredentials, type UpstreamCredentials } from './upstream-credentials.js';
export { createVault, secretSealingContext, type VaultDeps } from './vault.js';
