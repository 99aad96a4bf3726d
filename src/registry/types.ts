/** Registry records as the domain sees them. Times are milliseconds since the epoch. */

export const REVIEW_STATUSES = ['unreviewed', 'approved', 'rejected'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

export const AGENT_STATES = ['active', 'suspended', 'retired'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export interface Team {
  id: string;
  name: string;
  description: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface User {
  id: string;
  email: string;
  displayName: string | null;
  active: boolean;
  createdAt: number;
  updatedAt: number;
  deactivatedAt: number | null;
}

export interface Agent {
  id: string;
  name: string;
  description: string | null;
  teamId: string;
  sponsorId: string;
  labels: Record<string, string>;
  reviewStatus: ReviewStatus;
  /** The manifest version the current review status applies to. */
  reviewedVersion: number | null;
  reviewedBy: string | null;
  reviewedAt: number | null;
  reviewNote: string | null;
  state: AgentState;
  stateReason: string | null;
  /** The sponsor was deactivated: the agent runs on under its team until someone takes it over. */
  needsSponsor: boolean;
  /** Set while the owning team has no active member; the lifecycle sweep suspends after a grace period. */
  orphanedAt: number | null;
  manifestVersion: number | null;
  createdAt: number;
  updatedAt: number;
}

/** The fields of an agent that change after registration. */
export type AgentPatch = Partial<
  Pick<
    Agent,
    | 'description'
    | 'teamId'
    | 'sponsorId'
    | 'labels'
    | 'reviewStatus'
    | 'reviewedVersion'
    | 'reviewedBy'
    | 'reviewedAt'
    | 'reviewNote'
    | 'state'
    | 'stateReason'
    | 'needsSponsor'
    | 'orphanedAt'
    | 'manifestVersion'
    | 'updatedAt'
  >
>;

export interface AgentFilter {
  teamId?: string;
  sponsorId?: string;
  state?: AgentState;
  reviewStatus?: ReviewStatus;
  needsSponsor?: boolean;
  orphaned?: boolean;
  /** Orphaned at or before this time. */
  orphanedBefore?: number;
}

/** What an agent version declares it will touch. */
export interface Manifest {
  description: string;
  tools: string[];
  egressHosts: string[];
  llmProviders: string[];
  dataClasses: string[];
}

export interface ManifestVersion {
  agentId: string;
  version: number;
  manifest: Manifest;
  /** SHA-256 of the canonical manifest, hex. */
  digest: string;
  createdAt: number;
  createdBy: string;
}

export const AGENT_KEY_ALGS = ['EdDSA', 'ES256'] as const;
export type AgentKeyAlg = (typeof AGENT_KEY_ALGS)[number];

/** A public key an agent signs its client assertions with. */
export interface AgentKey {
  kid: string;
  agentId: string;
  alg: AgentKeyAlg;
  publicJwk: Record<string, unknown>;
  createdAt: number;
  revokedAt: number | null;
}
