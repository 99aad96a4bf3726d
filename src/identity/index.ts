export {
  ACCESS_TOKEN_TYP,
  type AccessTokenClaims,
  type IssueAccessTokenOptions,
  type IssuedAccessToken,
  issueAccessToken,
  type VerifyAccessTokenOptions,
  verifyAccessToken,
} from './access-tokens.js';
export {
  type AgentKeyPair,
  generateAgentKeyPair,
  type ParsedPublicKey,
  parsePublicKey,
} from './agent-credentials.js';
export {
  MAX_CLIENT_ASSERTION_LENGTH,
  readClaimedAgentId,
  type VerifyClientAssertionOptions,
  verifyClientAssertion,
} from './client-assertion.js';
export {
  decryptSecret,
  encryptSecret,
  loadOrCreateMasterKeyFile,
  MASTER_KEY_BYTES,
  MASTER_KEY_FILE,
  type MasterKeyResolution,
  type MasterKeySource,
  parseMasterKey,
  resolveMasterKey,
} from './master-key.js';
export {
  createSigningKeyring,
  type PublishedJwk,
  type SigningKeyring,
  type SigningKeyringOptions,
  type SignJwtOptions,
  type VerifyJwtOptions,
} from './signing-keyring.js';
export type { AdminRole, AdminToken, SigningKey, SigningKeyStatus } from './types.js';
export { ADMIN_ROLES, SIGNING_KEY_STATUSES } from './types.js';
