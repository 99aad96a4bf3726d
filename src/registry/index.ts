export {
  addAgentKey,
  changeAgentState,
  type RegisterAgentInput,
  type RegisteredAgent,
  registerAgent,
  revokeAgentKey,
  transferAgent,
} from './agents.js';
export type { RegistryDeps } from './deps.js';
export { agentsPastOrphanGrace, type LifecycleSweepResult, sweepLifecycle } from './lifecycle.js';
export { requireAgent, requireTeam, requireUser } from './lookup.js';
export { diffManifests, type ListChange, type ManifestDiff } from './manifest-diff.js';
export { diffManifestVersions, manifestDigest, type PushedManifest, pushManifest } from './manifests.js';
export { type ReviewInput, reviewAgent } from './reviews.js';
export { EmailSchema, LabelsSchema, ManifestSchema, NameSchema } from './schemas.js';
export { addTeamMember, createTeam, removeTeamMember } from './teams.js';
export type {
  Agent,
  AgentFilter,
  AgentKey,
  AgentKeyAlg,
  AgentPatch,
  AgentState,
  Manifest,
  ManifestVersion,
  ReviewStatus,
  Team,
  User,
} from './types.js';
export { AGENT_KEY_ALGS, AGENT_STATES, REVIEW_STATUSES } from './types.js';
export { activateUser, createUser, deactivateUser } from './users.js';
