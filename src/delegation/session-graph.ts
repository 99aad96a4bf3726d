import { GatehouseError } from '../errors/index.js';
import type { ChainLink } from '../policy/types.js';
import type { Repositories, StoredSession } from '../store/index.js';

export interface GraphNode {
  /** `user:<id>`, `agent:<id>` or `tool:<name>`. */
  id: string;
  kind: 'user' | 'agent' | 'tool';
  /** An email, an agent name, a tool name. */
  label: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: 'delegation' | 'call';
  /** Delegation: the token that carries it, and the tool whose call made Gatehouse exchange it (agent-to-agent). */
  jti?: string;
  via?: string;
  /** Call: where and how it was decided. */
  session?: string;
  step?: number;
  effect?: string;
  code?: string;
  ruleIds?: string[];
  /** ISO time. */
  at: string;
}

/** The emergent call graph of a task: who delegated to whom, and every call with its decision. */
export interface SessionGraph {
  session: string;
  /** The first Gatehouse token of the delegation tree; null for a session no token opened. */
  rootToken: string | null;
  sessions: string[];
  nodes: GraphNode[];
  edges: GraphEdge[];
}

const MAX_TOKENS = 500;
const MAX_SESSIONS = 200;

/**
 * Builds the graph of the task a session belongs to: the token that opened it leads to its delegation tree, the
 * tree to every session opened with one of its tokens (agent-to-agent hops included), and those to their calls.
 */
export async function buildSessionGraph(
  store: Pick<Repositories, 'sessions' | 'delegations' | 'agents'>,
  sessionId: string,
): Promise<SessionGraph> {
  const start = await store.sessions.find(sessionId);
  if (!start) throw new GatehouseError('session_not_found', `no session \`${sessionId}\``);
  const link = await store.delegations.sessionToken(sessionId);
  const opener = link ? await store.delegations.findToken(link.jti) : undefined;
  const rootToken = opener?.rootJti ?? link?.jti ?? null;
  const tokens = rootToken ? await store.delegations.tokensOfRoot(rootToken, MAX_TOKENS) : [];
  const jtis = [...new Set([...(rootToken ? [rootToken] : []), ...tokens.map((token) => token.jti)])];
  const sessionIds = new Set([sessionId]);
  for (const linked of await store.delegations.sessionsOfTokens(jtis)) {
    if (sessionIds.size >= MAX_SESSIONS) break;
    sessionIds.add(linked.sessionId);
  }
  const sessions: StoredSession[] = [start];
  for (const id of sessionIds) {
    if (id === sessionId) continue;
    const session = await store.sessions.find(id);
    if (session) sessions.push(session);
  }

  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const seenDelegations = new Set<string>();
  const nodeOf = (link: ChainLink): string => {
    const id = `${link.kind}:${link.sub}`;
    if (!nodes.has(id)) nodes.set(id, { id, kind: link.kind, label: link.sub });
    return id;
  };
  const delegate = (chain: ChainLink[], at: number, jti?: string, via?: string | null) => {
    for (let index = 1; index < chain.length; index += 1) {
      const from = nodeOf(chain[index - 1] as ChainLink);
      const to = nodeOf(chain[index] as ChainLink);
      const key = `${from}>${to}`;
      if (seenDelegations.has(key)) continue;
      seenDelegations.add(key);
      edges.push({
        from,
        to,
        kind: 'delegation',
        ...(jti ? { jti } : {}),
        ...(via && index === chain.length - 1 ? { via } : {}),
        at: new Date(at).toISOString(),
      });
    }
  };
  for (const token of tokens) delegate(token.chain, token.issuedAt, token.jti, token.viaTool);
  for (const session of sessions) {
    delegate(session.chain, session.createdAt);
    if (session.user) {
      const user = nodes.get(`user:${session.user.id}`);
      if (user && session.user.email) user.label = session.user.email;
    }
    const agent = nodeOf({ sub: session.agentId, kind: 'agent' });
    for (const call of await store.sessions.callsOf(session.id)) {
      const tool = `tool:${call.tool}`;
      if (!nodes.has(tool)) nodes.set(tool, { id: tool, kind: 'tool', label: call.tool });
      edges.push({
        from: agent,
        to: tool,
        kind: 'call',
        session: session.id,
        step: call.step,
        effect: call.effect,
        code: call.code,
        ruleIds: call.ruleIds,
        at: new Date(call.at).toISOString(),
      });
    }
  }
  for (const node of nodes.values()) {
    if (node.kind !== 'agent') continue;
    const agent = await store.agents.findById(node.label);
    if (agent) node.label = agent.name;
  }
  edges.sort((a, b) => a.at.localeCompare(b.at) || Number(a.kind === 'call') - Number(b.kind === 'call'));
  return {
    session: sessionId,
    rootToken,
    sessions: sessions.map((session) => session.id),
    nodes: [...nodes.values()],
    edges,
  };
}
