import { toAgentName } from './candidate-name.js';
import { confidenceOf, levelOf } from './confidence.js';
import { orderEvidence, suggestOwner } from './group-candidates.js';
import type { Candidate, RegisteredAgentSnapshot, RegistryMatch } from './types.js';

/** Labels `--register` puts on the agents it creates; a later run matches the candidate by them. */
export const CANDIDATE_LABEL = 'discovery/candidate';
export const PATH_LABEL = 'discovery/path';

/**
 * Which registered agent a candidate is, if any: by the label `--register` set, the agent id traffic named, the
 * digest of a manifest found beside the code, the name, or a path label. Pure.
 */
export function matchCandidate(
  candidate: Candidate,
  registry: readonly RegisteredAgentSnapshot[],
): RegistryMatch {
  const hints = candidate.evidence.flatMap((finding) => [finding.hints ?? {}]);
  const agentIds = new Set(hints.flatMap((hint) => hint.agentIds ?? []));
  const digests = new Set(hints.flatMap((hint) => hint.manifestDigests ?? []));
  const names = new Set(
    [candidate.name, ...hints.flatMap((hint) => hint.names ?? [])]
      .map((name) => toAgentName(name))
      .filter((name): name is string => !!name),
  );
  const paths = new Set([...candidate.paths, ...hints.flatMap((hint) => hint.paths ?? [])]);
  const tests: [RegistryMatch['matchedBy'], (agent: RegisteredAgentSnapshot) => boolean][] = [
    ['candidate-label', (agent) => agent.labels[CANDIDATE_LABEL] === candidate.id],
    ['agent-id', (agent) => agentIds.has(agent.id)],
    ['manifest', (agent) => agent.manifestDigest !== null && digests.has(agent.manifestDigest)],
    ['name', (agent) => names.has(agent.name)],
    [
      'path',
      (agent) =>
        [agent.labels[PATH_LABEL], agent.labels.path, agent.labels.repo].some(
          (label) => label !== undefined && paths.has(label),
        ),
    ],
  ];
  for (const [matchedBy, test] of tests) {
    // Retired agents are history: a live process or tree that matches one is a new shadow, not that agent.
    const agent = registry.find((each) => each.state !== 'retired' && test(each));
    if (agent) {
      return {
        status: agent.reviewStatus === 'approved' ? 'approved' : 'registered',
        agentId: agent.id,
        agentName: agent.name,
        reviewStatus: agent.reviewStatus,
        state: agent.state,
        matchedBy,
      };
    }
  }
  return {
    status: 'unknown',
    agentId: null,
    agentName: null,
    reviewStatus: null,
    state: null,
    matchedBy: null,
  };
}

/**
 * Matches every candidate with the registry, and folds candidates that turn out to be the same registered agent
 * (two processes of one agent, its code and its process) into one, so the counts are of agents.
 */
export function matchRegistry(
  candidates: readonly Candidate[],
  registry: readonly RegisteredAgentSnapshot[],
): Candidate[] {
  const byAgent = new Map<string, Candidate>();
  const result: Candidate[] = [];
  for (const candidate of candidates) {
    const registryMatch = matchCandidate(candidate, registry);
    const matched: Candidate = { ...candidate, registry: registryMatch };
    if (!registryMatch.agentId) {
      result.push(matched);
      continue;
    }
    const earlier = byAgent.get(registryMatch.agentId);
    if (!earlier) {
      byAgent.set(registryMatch.agentId, matched);
      result.push(matched);
      continue;
    }
    const merged = mergeCandidates(earlier, matched);
    byAgent.set(registryMatch.agentId, merged);
    result[result.indexOf(earlier)] = merged;
  }
  return result;
}

function mergeCandidates(a: Candidate, b: Candidate): Candidate {
  const evidence = orderEvidence([...a.evidence, ...b.evidence]);
  const unique = <T>(values: T[]) => [...new Set(values)];
  const confidence = confidenceOf(evidence);
  const keys = new Map([...a.keys, ...b.keys].map((key) => [key.fingerprint, key]));
  return {
    ...a,
    confidence,
    level: levelOf(confidence),
    sources: unique([...a.sources, ...b.sources]).sort(),
    providers: unique([...a.providers, ...b.providers]).sort(),
    frameworks: unique([...a.frameworks, ...b.frameworks]).sort(),
    mcpServers: unique([...a.mcpServers, ...b.mcpServers]).sort(),
    keys: [...keys.values()],
    pids: unique([...a.pids, ...b.pids]).sort((x, y) => x - y),
    paths: unique([...a.paths, ...b.paths]),
    owner: suggestOwner(evidence.flatMap((finding) => finding.owners ?? [])),
    evidence,
  };
}
