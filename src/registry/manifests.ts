import { createHash } from 'node:crypto';
import { auditedTransaction, type Emit } from '../audit/audited-transaction.js';
import { GatehouseError } from '../errors/index.js';
import { canonicalJson } from '../lib/canonical-json.js';
import type { Repositories } from '../store/index.js';
import type { RegistryDeps } from './deps.js';
import { requireAgent } from './lookup.js';
import { diffManifests, type ManifestDiff } from './manifest-diff.js';
import type { Agent, Manifest, ManifestVersion } from './types.js';

export function manifestDigest(manifest: Manifest): string {
  return createHash('sha256').update(canonicalJson(manifest)).digest('hex');
}

export interface PushedManifest {
  agent: Agent;
  version: ManifestVersion;
  /** False when the manifest equals the current version: nothing was stored and the review stands. */
  created: boolean;
  diff: ManifestDiff;
}

/**
 * Stores a new manifest version unless it equals the latest. A new version is a release: it resets the review to
 * `unreviewed`, because what was approved is no longer what runs.
 */
export async function storeManifestVersion(
  tx: Repositories,
  agent: Agent,
  manifest: Manifest,
  actor: string,
  now: number,
  emit: Emit,
): Promise<PushedManifest> {
  if (agent.state === 'retired') {
    throw new GatehouseError('invalid_state_transition', `agent \`${agent.name}\` is retired`);
  }
  const latest = await tx.manifests.latest(agent.id);
  const digest = manifestDigest(manifest);
  const diff = diffManifests(latest?.manifest, manifest);
  if (latest && latest.digest === digest) return { agent, version: latest, created: false, diff };
  const version: ManifestVersion = {
    agentId: agent.id,
    version: (latest?.version ?? 0) + 1,
    manifest,
    digest,
    createdAt: now,
    createdBy: actor,
  };
  await tx.manifests.insert(version);
  const updated = (await tx.agents.update(agent.id, {
    manifestVersion: version.version,
    reviewStatus: 'unreviewed',
    reviewedVersion: null,
    reviewedBy: null,
    reviewedAt: null,
    reviewNote: null,
    updatedAt: now,
  })) as Agent;
  emit({
    action: 'agent.manifest_pushed',
    target: agent.id,
    details: { version: version.version, digest, previousReviewStatus: agent.reviewStatus, diff },
  });
  return { agent: updated, version, created: true, diff };
}

export async function pushManifest(
  deps: RegistryDeps,
  actor: string,
  agentRef: string,
  manifest: Manifest,
): Promise<PushedManifest> {
  return auditedTransaction(deps, actor, async (tx, emit) => {
    const agent = await requireAgent(tx, agentRef);
    return storeManifestVersion(tx, agent, manifest, actor, deps.clock.now(), emit);
  });
}

/** Diff between two versions of an agent's manifest; defaults to the latest against the one before it. */
export async function diffManifestVersions(
  deps: RegistryDeps,
  agentRef: string,
  range: { from?: number; to?: number } = {},
): Promise<{ from: number | null; to: number; diff: ManifestDiff }> {
  const agent = await requireAgent(deps.store, agentRef);
  const toVersion = range.to ?? agent.manifestVersion;
  if (toVersion === null || toVersion === undefined) {
    throw new GatehouseError('manifest_missing', `agent \`${agent.name}\` has no manifest`);
  }
  const to = await requireVersion(deps, agent, toVersion);
  const fromVersion = range.from ?? (to.version > 1 ? to.version - 1 : null);
  const from = fromVersion === null ? undefined : await requireVersion(deps, agent, fromVersion);
  return { from: from?.version ?? null, to: to.version, diff: diffManifests(from?.manifest, to.manifest) };
}

async function requireVersion(deps: RegistryDeps, agent: Agent, version: number): Promise<ManifestVersion> {
  const found = await deps.store.manifests.get(agent.id, version);
  if (!found) {
    throw new GatehouseError(
      'manifest_version_not_found',
      `agent \`${agent.name}\` has no manifest version ${version}`,
    );
  }
  return found;
}
