import type { AuditEntry } from '../audit/index.js';
import { providerOfHost } from './endpoints.js';
import { stableId } from './fingerprint.js';
import type { ProviderEndpoint } from './signatures.js';
import type { Finding, FindingSource, RegisteredAgentSnapshot } from './types.js';

/** Audit actions discovery reads: the LLM gateway's and the egress proxy's per-request records. */
export const TRAFFIC_ACTION_PREFIXES = ['llm.request.', 'egress.request.'] as const;

export function isTrafficAction(action: string): boolean {
  return TRAFFIC_ACTION_PREFIXES.some((prefix) => action.startsWith(prefix));
}

interface Tally {
  key: string;
  kind: 'unregistered-caller' | 'unexpected-provider';
  source: FindingSource;
  agentId: string | null;
  caller: string;
  provider: string | null;
  providers: Set<string>;
  gateways: Set<string>;
  codes: Set<string>;
  count: number;
  entries: number;
  firstSeq: number;
  lastSeq: number;
  lastTime: string;
  userAgent: string | null;
}

export interface TrafficAccumulator {
  add(entry: Pick<AuditEntry, 'seq' | 'time' | 'actor' | 'action' | 'details'>, source?: FindingSource): void;
  findings(): Finding[];
}

/**
 * Folds LLM-gateway and egress-proxy audit records into findings: requests from callers that are not registered
 * agents (refused authentications, unknown agent ids), and registered agents reaching a provider their manifest
 * does not list. See docs/discovery.md for the fields read.
 */
export function createTrafficAccumulator(
  registry: readonly RegisteredAgentSnapshot[],
  endpoints: readonly Pick<ProviderEndpoint, 'provider' | 'hosts'>[],
): TrafficAccumulator {
  const agents = new Map(registry.map((agent) => [agent.id, agent]));
  const tallies = new Map<string, Tally>();
  const tally = (
    key: string,
    init: Omit<
      Tally,
      'providers' | 'gateways' | 'codes' | 'count' | 'entries' | 'lastSeq' | 'lastTime' | 'key'
    >,
  ) => {
    let found = tallies.get(key);
    if (!found) {
      found = {
        ...init,
        key,
        providers: new Set(),
        gateways: new Set(),
        codes: new Set(),
        count: 0,
        entries: 0,
        lastSeq: 0,
        lastTime: '',
      };
      tallies.set(key, found);
    }
    return found;
  };
  return {
    add(entry, source = 'traffic') {
      if (!isTrafficAction(entry.action)) return;
      const details = (entry.details ?? {}) as Record<string, unknown>;
      const text = (name: string) => (typeof details[name] === 'string' ? (details[name] as string) : null);
      const gateway = entry.action.startsWith('llm.') ? 'llm-gateway' : 'egress-proxy';
      const host = text('host');
      const tool = text('tool');
      const provider =
        text('provider') ??
        (tool?.startsWith('llm.') ? (tool.split('.')[1] ?? null) : null) ??
        (host ? (providerOfHost(endpoints, host) ?? null) : null);
      const actorAgent = entry.actor.startsWith('agent:') ? entry.actor.slice('agent:'.length) : null;
      const agentId = actorAgent ?? text('agentId');
      const agent = agentId ? agents.get(agentId) : undefined;
      if (agent) {
        if (!provider || agent.llmProviders.includes(provider)) return;
        const item = tally(`agent:${agent.id}:${provider}`, {
          kind: 'unexpected-provider',
          source,
          agentId: agent.id,
          caller: agent.name,
          provider,
          firstSeq: entry.seq,
          userAgent: null,
        });
        record(item, entry, gateway, provider, text('code'));
        return;
      }
      const caller =
        text('claimedAgentId') ??
        agentId ??
        text('clientIp') ??
        text('ip') ??
        text('remoteAddress') ??
        'unidentified caller';
      const item = tally(`caller:${caller}`, {
        kind: 'unregistered-caller',
        source,
        agentId: agentId,
        caller,
        provider: null,
        firstSeq: entry.seq,
        userAgent: text('userAgent'),
      });
      record(item, entry, gateway, provider, text('code'));
    },
    findings() {
      return [...tallies.values()].map((item) => toFinding(item, agents.get(item.agentId ?? '')));
    },
  };
}

function record(
  item: Tally,
  entry: Pick<AuditEntry, 'seq' | 'time' | 'action'>,
  gateway: string,
  provider: string | null,
  code: string | null,
) {
  // One request leaves a `decided` (or a `refused`) entry and, if it went through, a `completed` one.
  if (/\.(?:decided|refused)$/.test(entry.action)) item.count += 1;
  item.entries += 1;
  item.gateways.add(gateway);
  if (provider) item.providers.add(provider);
  if (code) item.codes.add(code);
  item.firstSeq = Math.min(item.firstSeq, entry.seq);
  item.lastSeq = Math.max(item.lastSeq, entry.seq);
  if (entry.time > item.lastTime) item.lastTime = entry.time;
}

function toFinding(item: Tally, agent: RegisteredAgentSnapshot | undefined): Finding {
  const count = item.count || item.entries;
  const requests = `${count} ${count === 1 ? 'request' : 'requests'}`;
  const where =
    item.firstSeq === item.lastSeq ? `audit #${item.firstSeq}` : `audit #${item.firstSeq}..#${item.lastSeq}`;
  const providers = [...item.providers].sort();
  const codes = [...item.codes].sort();
  const refusedNote = codes.length ? `, refused: ${codes.join(', ')}` : '';
  if (item.kind === 'unexpected-provider' && agent) {
    return {
      id: stableId('fnd', ['traffic', item.key], 16),
      kind: 'unexpected-provider',
      source: item.source,
      summary: `registered agent ${agent.name} asked for ${item.provider} through the ${[...item.gateways].join(' and ')} (${requests}${refusedNote}); its manifest lists ${agent.llmProviders.join(', ') || 'no providers'}`,
      where,
      when: item.lastTime || null,
      subject: { type: 'agent', agentId: agent.id },
      weight: 1,
      provider: item.provider ?? undefined,
      hints: { agentIds: [agent.id], names: [agent.name] },
    };
  }
  return {
    id: stableId('fnd', ['traffic', item.key], 16),
    kind: 'unregistered-caller',
    source: item.source,
    summary: `${requests} to the ${[...item.gateways].join(' and ')}${providers.length ? ` for ${providers.join(', ')}` : ''} from ${item.caller}, not a registered agent${codes.length ? ` (refused: ${codes.join(', ')})` : ''}`,
    where,
    when: item.lastTime || null,
    subject: { type: 'caller', key: item.caller },
    weight: 0.9,
    ...(providers[0] ? { provider: providers[0] } : {}),
    hints: {
      names: [item.caller, ...(item.userAgent ? [item.userAgent] : [])],
      ...(item.agentId ? { agentIds: [item.agentId] } : {}),
    },
  };
}
