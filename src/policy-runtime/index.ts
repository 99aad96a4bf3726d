export { readPolicySources } from './bundle-files.js';
export {
  createPolicyRuntime,
  EMPTY_BUNDLE_VERSION,
  type PolicyRuntime,
  type PolicyStatus,
  type PublishOptions,
  type PublishResult,
} from './policy-runtime.js';
export { type PolicyWatcher, type ReloadResult, watchPolicyPath } from './policy-watcher.js';
export { principalOfAgent } from './principal.js';
export { loadRecordedSessions } from './recorded-sessions.js';
export {
  createSessionService,
  type SessionDecision,
  type SessionService,
  type StartSessionInput,
} from './sessions.js';
