export { type BackoffOptions, backoffDelay } from './backoff.js';
export { createRedactor, REDACTED, type Redact } from './secret-redactor.js';
export type {
  ResolveUpstreamCredentials,
  UpstreamCallOptions,
  UpstreamCredentials,
  UpstreamListChange,
  UpstreamListKind,
  UpstreamPrompt,
  UpstreamResource,
  UpstreamResourceTemplate,
  UpstreamState,
  UpstreamStatus,
  UpstreamTool,
} from './types.js';
export { createUpstreamPool, type UpstreamPool, type UpstreamPoolOptions } from './upstream-pool.js';
