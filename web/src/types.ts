export interface AgentView {
  id: string;
  name: string;
  description: string | null;
  team: { id: string; name: string | null };
  sponsor: { id: string; email: string | null; active: boolean };
  labels: Record<string, string>;
  reviewStatus: 'unreviewed' | 'approved' | 'rejected';
  reviewedVersion: number | null;
  reviewedBy: { id: string; email: string | null } | null;
  reviewedAt: string | null;
  reviewNote: string | null;
  state: 'active' | 'suspended' | 'retired';
  stateReason: string | null;
  needsSponsor: boolean;
  orphaned: boolean;
  manifestVersion: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface InventorySummary {
  total: number;
  approved: number;
  unreviewed: number;
  rejected: number;
  active: number;
  suspended: number;
  retired: number;
  needsSponsor: number;
  orphaned: number;
}

export interface SessionView {
  id: string;
  agentId: string;
  scope: Record<string, unknown>;
  user: { id: string; email?: string } | null;
  steps: number;
  taint: { secrecy: string[]; integrity: string[] };
  terminated: unknown;
  createdAt: string;
  updatedAt: string;
}

export interface CallView {
  step: number;
  at: string;
  tool: string;
  effect: string;
  code: string | null;
  ruleIds: string[];
  outcome: string | null;
  bundle: string | null;
}

export interface GraphView {
  nodes: { id: string; kind: 'user' | 'agent' | 'tool'; label: string }[];
  edges: {
    from: string;
    to: string;
    kind: 'delegation' | 'call';
    effect?: string;
    step?: number;
    at: string;
  }[];
}

export interface AuditEntry {
  seq: number;
  time: string;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  hash: string;
}

export interface AuditVerifyReport {
  ok: boolean;
  entries: number;
  lastSeq: number;
  lastHash: string;
  checkpoints: { verified: number; unverifiable: number };
  firstBadSeq?: number;
  problem?: { code: string; message: string };
}

export interface ManifestVersion {
  version: number;
  digest: string;
  manifest: unknown;
  createdAt: string;
  createdBy: string;
}

/** A session's taint labels in one line, or an empty string. */
export function describeTaint(taint: SessionView['taint'] | undefined): string {
  if (!taint) return '';
  return [
    ...taint.secrecy.map((label) => `secrecy:${label}`),
    ...taint.integrity.map((label) => `integrity:${label}`),
  ].join(', ');
}
