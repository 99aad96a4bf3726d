import { GatehouseError } from '../../errors/index.js';
import type { Decision } from '../../policy/index.js';
import type { Agent } from '../../registry/index.js';
import type { Gatehouse } from '../../server/create-gatehouse.js';
import { type AgentRequestDecider, createAgentRequestDecider } from '../agent-requests.js';
import { checkLiteralDestination } from './destination-address.js';
import type { EgressTarget } from './egress-target.js';
import { checkManifestHosts } from './manifest-hosts.js';

/** The tool name every egress request is decided as. */
export const EGRESS_TOOL = 'http.request';

export interface EgressCall {
  agent: Agent;
  method: string;
  target: EgressTarget;
  /** The credentialed route the request goes through, if any. */
  route?: string;
  /** The session the agent named (header or proxy user name); its ambient session otherwise. */
  requestedSession?: string | undefined;
}

export interface EgressGrant {
  decision: Decision;
  sessionId: string;
  step: number;
}

// One decider per Gatehouse, so the proxy and the routes share an agent's ambient session (and its history).
const deciders = new WeakMap<Gatehouse, AgentRequestDecider>();

function deciderFor(gatehouse: Gatehouse): AgentRequestDecider {
  let decider = deciders.get(gatehouse);
  if (!decider) {
    decider = createAgentRequestDecider(gatehouse);
    deciders.set(gatehouse, decider);
  }
  return decider;
}

/** The arguments an egress request is decided with: what rules on `http.request` can match. */
export function egressArgs(call: Pick<EgressCall, 'method' | 'target' | 'route'>): Record<string, unknown> {
  const { target } = call;
  return {
    method: call.method,
    scheme: target.scheme,
    host: target.host,
    port: target.port,
    ...(target.path === undefined ? {} : { path: target.path }),
    ...(target.query === undefined ? {} : { query: target.query }),
    ...(call.route === undefined ? {} : { route: call.route }),
  };
}

/**
 * Decides one egress request or tunnel: the manifest's egress hosts first, then (for IP literals) the address
 * rules, then policy as the call `http.request` in the agent's session (audited as `egress.request.decided`).
 * Manifest and address refusals throw; the policy decision is returned, and only `allow` and `flag` may
 * proceed (see `refusalOfDecision`). Host names are resolved and checked by the caller after this, so a host
 * that policy refuses is never even looked up.
 */
export async function authorizeEgress(
  gatehouse: Gatehouse,
  call: EgressCall,
  options: { checkAddress: boolean },
): Promise<EgressGrant> {
  await checkManifestHosts(gatehouse.store, call.agent, call.target.host, call.target.port);
  if (options.checkAddress) checkLiteralDestination(call.target.host, gatehouse.config.egress);
  return deciderFor(gatehouse).decide({
    agent: call.agent,
    tool: EGRESS_TOOL,
    args: egressArgs(call),
    requestedSession: call.requestedSession,
    action: 'egress.request.decided',
  });
}

/** True for the effects that let a request through: `allow` and `flag`. */
export function permits(decision: Decision): boolean {
  return decision.effect === 'allow' || decision.effect === 'flag';
}

/** The refusal for a decision that does not permit, with the same codes as the MCP gateway. */
export function refusalOfDecision(decision: Decision): GatehouseError {
  const code =
    decision.effect === 'approve'
      ? 'approval_required'
      : decision.code === 'policy_eval_error'
        ? 'policy_eval_error'
        : decision.code === 'session_terminated'
          ? 'session_terminated'
          : 'policy_denied';
  return new GatehouseError(code, decision.reason, {
    details: {
      decision: decision.code,
      ruleIds: decision.ruleIds,
      ...(decision.approval ? { approvers: decision.approval.approvers } : {}),
    },
  });
}
