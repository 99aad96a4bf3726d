import { auditedTransaction } from '../audit/audited-transaction.js';
import { GatehouseError } from '../errors/index.js';
import { generateAgentKeyPair, parsePublicKey } from '../identity/agent-credentials.js';
import { createId } from '../lib/ids.js';
import { UniqueViolationError } from '../store/index.js';
import type { RegistryDeps } from './deps.js';
import { requireActiveUser, requireAgent, requireTeam } from './lookup.js';
import { storeManifestVersion } from './manifests.js';
import type { Agent, AgentKey, AgentState, Manifest } from './types.js';

export interface RegisterAgentInput {
  name: string;
  team: string;
  sponsor: string;
  description?: string | null;
  labels?: Record<string, string>;
  /** The agent's own public key (JWK object/JSON or SPKI PEM). Without one, a key pair is generated. */
  publicKey?: string | Record<string, unknown>;
  manifest?: Manifest;
}

export interface RegisteredAgent {
  agent: Agent;
  key: AgentKey;
  /** Present only when Gatehouse generated the key pair: shown once, never stored. */
  privateKey?: { pem: string; jwk: Record<string, unknown> };
}

/** Registers an agent as a principal of its own, owned by a team, with its first credential. */
export async function registerAgent(
  deps: RegistryDeps,
  actor: string,
  input: RegisterAgentInput,
): Promise<RegisteredAgent> {
  const generated = input.publicKey === undefined ? await generateAgentKeyPair() : undefined;
  const publicKey = generated ?? (await parsePublicKey(input.publicKey as string | Record<string, unknown>));
  const now = deps.clock.now();
  try {
    const registered = await auditedTransaction(deps, actor, async (tx, emit) => {
      const team = await requireTeam(tx, input.team);
      const sponsor = await requireActiveUser(tx, input.sponsor);
      const orphaned = (await tx.teams.countActiveMembers(team.id)) === 0;
      const agent: Agent = {
        id: createId('agt'),
        name: input.name,
        description: input.description ?? null,
        teamId: team.id,
        sponsorId: sponsor.id,
        labels: input.labels ?? {},
        reviewStatus: 'unreviewed',
        reviewedVersion: null,
        reviewedBy: null,
        reviewedAt: null,
        reviewNote: null,
        state: 'active',
        stateReason: null,
        needsSponsor: false,
        orphanedAt: orphaned ? now : null,
        manifestVersion: null,
        createdAt: now,
        updatedAt: now,
      };
      await tx.agents.insert(agent);
      const key: AgentKey = {
        kid: publicKey.kid,
        agentId: agent.id,
        alg: publicKey.alg,
        publicJwk: publicKey.publicJwk,
        createdAt: now,
        revokedAt: null,
      };
      await tx.agentKeys.insert(key);
      emit({
        action: 'agent.registered',
        target: agent.id,
        details: {
          name: agent.name,
          teamId: team.id,
          sponsorId: sponsor.id,
          kid: key.kid,
          keyGenerated: !!generated,
        },
      });
      if (orphaned) emit({ action: 'agent.orphaned', target: agent.id, details: { teamId: team.id } });
      let current = agent;
      if (input.manifest)
        current = (await storeManifestVersion(tx, current, input.manifest, actor, now, emit)).agent;
      return { agent: current, key };
    });
    return generated
      ? { ...registered, privateKey: { pem: generated.privateKeyPem, jwk: generated.privateJwk } }
      : registered;
  } catch (error) {
    if (error instanceof UniqueViolationError) {
      if (error.constraint?.includes('kid') || error.constraint?.includes('agent_keys')) {
        throw new GatehouseError('agent_key_exists', 'this public key is already registered');
      }
      throw new GatehouseError('agent_exists', `agent \`${input.name}\` already exists`);
    }
    throw error;
  }
}

const TRANSITIONS: Record<
  'suspend' | 'resume' | 'retire',
  { from: AgentState[]; to: AgentState; action: string }
> = {
  suspend: { from: ['active'], to: 'suspended', action: 'agent.suspended' },
  resume: { from: ['suspended'], to: 'active', action: 'agent.resumed' },
  retire: { from: ['active', 'suspended'], to: 'retired', action: 'agent.retired' },
};

/**
 * Moves an agent through its lifecycle: suspend (reversible; its live tokens stop working at once), resume,
 * retire (final). A resume is refused while the owning team has no active member: transfer the agent first.
 */
export async function changeAgentState(
  deps: RegistryDeps,
  actor: string,
  agentRef: string,
  transition: keyof typeof TRANSITIONS,
  reason?: string,
): Promise<Agent> {
  const rule = TRANSITIONS[transition];
  return auditedTransaction(deps, actor, async (tx, emit) => {
    const agent = await requireAgent(tx, agentRef);
    if (!rule.from.includes(agent.state)) {
      throw new GatehouseError(
        'invalid_state_transition',
        `cannot ${transition} agent \`${agent.name}\`: it is ${agent.state}`,
      );
    }
    if (transition === 'resume' && (await tx.teams.countActiveMembers(agent.teamId)) === 0) {
      throw new GatehouseError(
        'invalid_state_transition',
        `cannot resume agent \`${agent.name}\`: its team has no active member; transfer it first`,
      );
    }
    const now = deps.clock.now();
    const updated = await tx.agents.update(agent.id, {
      state: rule.to,
      stateReason: reason ?? null,
      updatedAt: now,
    });
    emit({
      action: rule.action,
      target: agent.id,
      details: { from: agent.state, to: rule.to, reason: reason ?? null },
    });
    return updated as Agent;
  });
}

/** Hands an agent to another team (and optionally another sponsor); ownership marks are re-derived. */
export async function transferAgent(
  deps: RegistryDeps,
  actor: string,
  agentRef: string,
  input: { team: string; sponsor?: string; reason?: string },
): Promise<Agent> {
  return auditedTransaction(deps, actor, async (tx, emit) => {
    const agent = await requireAgent(tx, agentRef);
    if (agent.state === 'retired') {
      throw new GatehouseError(
        'invalid_state_transition',
        `cannot transfer agent \`${agent.name}\`: it is retired`,
      );
    }
    const team = await requireTeam(tx, input.team);
    const sponsor = input.sponsor === undefined ? undefined : await requireActiveUser(tx, input.sponsor);
    const sponsorId = sponsor?.id ?? agent.sponsorId;
    const sponsorActive = sponsor ? true : ((await tx.users.findById(agent.sponsorId))?.active ?? false);
    const now = deps.clock.now();
    const teamHasMembers = (await tx.teams.countActiveMembers(team.id)) > 0;
    const updated = await tx.agents.update(agent.id, {
      teamId: team.id,
      sponsorId,
      needsSponsor: !sponsorActive,
      orphanedAt: teamHasMembers ? null : (agent.orphanedAt ?? now),
      updatedAt: now,
    });
    emit({
      action: 'agent.transferred',
      target: agent.id,
      details: {
        fromTeamId: agent.teamId,
        toTeamId: team.id,
        fromSponsorId: agent.sponsorId,
        toSponsorId: sponsorId,
        reason: input.reason ?? null,
      },
    });
    return updated as Agent;
  });
}

/** Adds another public key to an agent (key rotation without downtime). */
export async function addAgentKey(
  deps: RegistryDeps,
  actor: string,
  agentRef: string,
  publicKeyInput: string | Record<string, unknown>,
): Promise<AgentKey> {
  const publicKey = await parsePublicKey(publicKeyInput);
  try {
    return await auditedTransaction(deps, actor, async (tx, emit) => {
      const agent = await requireAgent(tx, agentRef);
      const key: AgentKey = { ...publicKey, agentId: agent.id, createdAt: deps.clock.now(), revokedAt: null };
      await tx.agentKeys.insert(key);
      emit({ action: 'agent.key_added', target: agent.id, details: { kid: key.kid, alg: key.alg } });
      return key;
    });
  } catch (error) {
    if (error instanceof UniqueViolationError)
      throw new GatehouseError('agent_key_exists', 'this public key is already registered');
    throw error;
  }
}

export async function revokeAgentKey(
  deps: RegistryDeps,
  actor: string,
  agentRef: string,
  kid: string,
): Promise<void> {
  await auditedTransaction(deps, actor, async (tx, emit) => {
    const agent = await requireAgent(tx, agentRef);
    const key = await tx.agentKeys.find(kid);
    if (!key || key.agentId !== agent.id)
      throw new GatehouseError('agent_key_not_found', `agent has no key \`${kid}\``);
    if (await tx.agentKeys.revoke(kid, deps.clock.now())) {
      emit({ action: 'agent.key_revoked', target: agent.id, details: { kid } });
    }
  });
}
