import { z } from 'zod';
import { isGatehouseError } from '../errors/index.js';
import {
  type Agent,
  LabelsSchema,
  type Manifest,
  ManifestSchema,
  NameSchema,
  type RegistryDeps,
  registerAgent,
  requireTeam,
  requireUser,
} from '../registry/index.js';
import { CANDIDATE_LABEL, PATH_LABEL } from './match-registry.js';
import type { Candidate } from './types.js';

/** What `--register` asks the registry to create for one candidate. */
export const CandidateRegistrationSchema = z.strictObject({
  candidateId: z.string().regex(/^cand_[0-9a-f]{12}$/),
  name: NameSchema,
  description: z.string().max(1000).optional(),
  labels: LabelsSchema.optional(),
  manifest: ManifestSchema.optional(),
});

export type CandidateRegistration = z.input<typeof CandidateRegistrationSchema>;

/**
 * A registration for a candidate: its suggested name, labels that tie the agent to the candidate (so later runs
 * match it), and a draft manifest of what was seen (providers, MCP servers as `server.*`) for the reviewer. Pure.
 */
export function registrationFor(candidate: Candidate): CandidateRegistration {
  const labels: Record<string, string> = {
    [CANDIDATE_LABEL]: candidate.id,
    'discovery/kind': candidate.kind,
  };
  const path = candidate.paths[0];
  if (path && path.length <= 253) labels[PATH_LABEL] = path;
  const draft = {
    description:
      `Discovered by gatehouse discover (${candidate.evidence[0]?.summary ?? candidate.kind})`.slice(0, 4000),
    tools: candidate.mcpServers
      .map((server) => server.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, ''))
      .filter((server) => server.length > 0)
      .map((server) => `${server}.*`),
    egressHosts: [],
    llmProviders: candidate.providers.filter((provider) => /^[a-z0-9][a-z0-9._:-]{0,62}$/.test(provider)),
    dataClasses: [],
  };
  const manifest = ManifestSchema.safeParse(draft);
  return {
    candidateId: candidate.id,
    name: candidate.name,
    description: `discovered: ${candidate.evidence[0]?.summary ?? candidate.kind}`.slice(0, 1000),
    labels,
    ...(manifest.success ? { manifest: manifest.data } : {}),
  };
}

export interface CandidateRegistrationResult {
  candidateId: string;
  agent: Agent | null;
  error: { code: string; message: string } | null;
}

/**
 * Registers candidates as `unreviewed` agents owned by `team` and `sponsor`. Each is its own transaction: one that
 * fails (a name taken, say) is reported and the others still go through. Gatehouse generates a key pair for each
 * and keeps only the public half; the owner adds the agent's real key with `agent key add`.
 */
export async function registerCandidates(
  deps: RegistryDeps,
  actor: string,
  input: {
    team: string;
    sponsor: string;
    registrations: readonly z.output<typeof CandidateRegistrationSchema>[];
  },
): Promise<CandidateRegistrationResult[]> {
  // An unknown team or sponsor is the operator's typo: refuse the lot rather than fail each one.
  await requireTeam(deps.store, input.team);
  await requireUser(deps.store, input.sponsor);
  const results: CandidateRegistrationResult[] = [];
  for (const registration of input.registrations) {
    try {
      const registered = await registerAgent(deps, actor, {
        name: registration.name,
        team: input.team,
        sponsor: input.sponsor,
        description: registration.description ?? null,
        labels: { ...(registration.labels ?? {}), [CANDIDATE_LABEL]: registration.candidateId },
        ...(registration.manifest ? { manifest: registration.manifest as Manifest } : {}),
      });
      results.push({ candidateId: registration.candidateId, agent: registered.agent, error: null });
    } catch (error) {
      if (!isGatehouseError(error)) throw error;
      results.push({
        candidateId: registration.candidateId,
        agent: null,
        error: { code: error.code, message: error.message },
      });
    }
  }
  return results;
}
