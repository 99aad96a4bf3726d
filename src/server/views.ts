import type { AdminToken, SigningKey } from '../identity/types.js';
import type { Agent, AgentKey, ManifestVersion, Team, User } from '../registry/index.js';
import type { Repositories } from '../store/index.js';

/** Wire representations: ISO times, names beside ids, never secrets. */
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const teamView = (team: Team) => ({
  id: team.id,
  name: team.name,
  description: team.description,
  createdAt: iso(team.createdAt),
  updatedAt: iso(team.updatedAt),
});

export const userView = (user: User) => ({
  id: user.id,
  email: user.email,
  displayName: user.displayName,
  active: user.active,
  createdAt: iso(user.createdAt),
  deactivatedAt: iso(user.deactivatedAt),
});

export const agentKeyView = (key: AgentKey) => ({
  kid: key.kid,
  alg: key.alg,
  publicJwk: key.publicJwk,
  createdAt: iso(key.createdAt),
  revokedAt: iso(key.revokedAt),
});

export const manifestVersionView = (version: ManifestVersion) => ({
  version: version.version,
  digest: version.digest,
  manifest: version.manifest,
  createdAt: iso(version.createdAt),
  createdBy: version.createdBy,
});

export const signingKeyView = (key: SigningKey) => ({
  kid: key.kid,
  alg: key.alg,
  status: key.status,
  createdAt: iso(key.createdAt),
  retiredAt: iso(key.retiredAt),
  verifyUntil: iso(key.verifyUntil),
});

export const adminTokenView = (token: AdminToken) => ({
  id: token.id,
  name: token.name,
  role: token.role,
  userId: token.userId,
  createdAt: iso(token.createdAt),
  createdBy: token.createdBy,
  revokedAt: iso(token.revokedAt),
  lastUsedAt: iso(token.lastUsedAt),
});

export interface Directory {
  teams: Map<string, Team>;
  users: Map<string, User>;
}

/** Teams and users by id, loaded once per request so agent lists don't query per row. */
export async function loadDirectory(repos: Repositories): Promise<Directory> {
  const [teams, users] = await Promise.all([repos.teams.list(), repos.users.list()]);
  return {
    teams: new Map(teams.map((team) => [team.id, team])),
    users: new Map(users.map((user) => [user.id, user])),
  };
}

export function agentView(agent: Agent, directory: Directory) {
  const team = directory.teams.get(agent.teamId);
  const sponsor = directory.users.get(agent.sponsorId);
  const reviewer = agent.reviewedBy ? directory.users.get(agent.reviewedBy) : undefined;
  return {
    id: agent.id,
    name: agent.name,
    description: agent.description,
    team: { id: agent.teamId, name: team?.name ?? null },
    sponsor: { id: agent.sponsorId, email: sponsor?.email ?? null, active: sponsor?.active ?? false },
    labels: agent.labels,
    reviewStatus: agent.reviewStatus,
    reviewedVersion: agent.reviewedVersion,
    reviewedBy: agent.reviewedBy ? { id: agent.reviewedBy, email: reviewer?.email ?? null } : null,
    reviewedAt: iso(agent.reviewedAt),
    reviewNote: agent.reviewNote,
    state: agent.state,
    stateReason: agent.stateReason,
    needsSponsor: agent.needsSponsor,
    orphaned: agent.orphanedAt !== null,
    orphanedAt: iso(agent.orphanedAt),
    manifestVersion: agent.manifestVersion,
    createdAt: iso(agent.createdAt),
    updatedAt: iso(agent.updatedAt),
  };
}

export type AgentView = ReturnType<typeof agentView>;

/** The numbers a CISO asks for first: how many agents, how many reviewed, how many in trouble. */
export function inventorySummary(agents: readonly Agent[]) {
  const count = (predicate: (agent: Agent) => boolean) => agents.filter(predicate).length;
  return {
    total: agents.length,
    approved: count((agent) => agent.reviewStatus === 'approved'),
    unreviewed: count((agent) => agent.reviewStatus === 'unreviewed'),
    rejected: count((agent) => agent.reviewStatus === 'rejected'),
    active: count((agent) => agent.state === 'active'),
    suspended: count((agent) => agent.state === 'suspended'),
    retired: count((agent) => agent.state === 'retired'),
    needsSponsor: count((agent) => agent.needsSponsor),
    orphaned: count((agent) => agent.orphanedAt !== null),
  };
}

/** The inventory in one line, as people say it: "47 agents — 6 approved, 41 unreviewed, 0 rejected; …". */
export type InventorySummary = ReturnType<typeof inventorySummary>;

export function describeInventory(summary: InventorySummary): string {
  const agents = `${summary.total} ${summary.total === 1 ? 'agent' : 'agents'}`;
  return (
    `${agents} — ${summary.approved} approved, ${summary.unreviewed} unreviewed, ${summary.rejected} rejected; ` +
    `${summary.suspended} suspended, ${summary.retired} retired, ${summary.needsSponsor} need a sponsor, ` +
    `${summary.orphaned} orphaned`
  );
}
