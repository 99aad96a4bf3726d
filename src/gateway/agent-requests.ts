import { GatehouseError } from '../errors/index.js';
import type { Decision } from '../policy/index.js';
import { principalOfAgent } from '../policy-runtime/index.js';
import type { Agent } from '../registry/index.js';
import type { Gatehouse } from '../server/create-gatehouse.js';

/** Header with which an agent names the Gatehouse session (task) a plain HTTP request belongs to. */
export const SESSION_HEADER = 'gatehouse-session';

export interface RequestDecision {
  decision: Decision;
  sessionId: string;
  step: number;
}

const deciders = new WeakMap<Gatehouse, ReturnType<typeof buildDecider>>();

/**
 * History for requests outside MCP (LLM gateway, egress proxy): a request names its session with the
 * `gatehouse-session` header (an admin-created task, or a session its MCP connection is in), or falls into the
 * agent's ambient session, one per agent per process, so trajectory rules still see what the agent did. One
 * decider per Gatehouse, so the LLM gateway and the egress proxy share an agent's ambient session.
 */
export function createAgentRequestDecider(gatehouse: Gatehouse) {
  let decider = deciders.get(gatehouse);
  if (!decider) {
    decider = buildDecider(gatehouse);
    deciders.set(gatehouse, decider);
  }
  return decider;
}

function buildDecider(gatehouse: Gatehouse) {
  const ambient = new Map<string, Promise<string>>();

  const sessionFor = async (agent: Agent, requested: string | undefined): Promise<string> => {
    if (requested) {
      const session = await gatehouse.sessions.get(requested);
      if (session.agentId !== agent.id) {
        throw new GatehouseError('forbidden', `session \`${requested}\` belongs to another agent`);
      }
      return session.id;
    }
    let id = ambient.get(agent.id);
    if (!id) {
      id = gatehouse.sessions.start({ agentId: agent.id, scope: {} }).then((session) => session.id);
      id.catch(() => ambient.delete(agent.id));
      ambient.set(agent.id, id);
    }
    return id;
  };

  return {
    /**
     * Decides one request as the call `tool` with `args` in the agent's session, and audits the decision
     * (durably, before returning). The caller enforces: only `allow` and `flag` may proceed.
     */
    async decide(input: {
      agent: Agent;
      tool: string;
      args: Record<string, unknown>;
      requestedSession?: string | undefined;
      /** Audit action, e.g. `llm.request.decided`, `egress.request.decided`. */
      action: string;
    }): Promise<RequestDecision> {
      const sessionId = await sessionFor(input.agent, input.requestedSession);
      const principal = await principalOfAgent(gatehouse.store, input.agent);
      const { decision, step } = await gatehouse.sessions.decide({
        sessionId,
        principal,
        call: { tool: input.tool, args: input.args },
      });
      await gatehouse.audit.record({
        actor: `agent:${input.agent.id}`,
        action: input.action,
        target: `session:${sessionId}`,
        details: {
          step,
          tool: input.tool,
          effect: decision.effect,
          code: decision.code,
          ruleIds: decision.ruleIds,
          reason: decision.reason,
          bundle: decision.bundleVersion,
        },
      });
      return { decision, sessionId, step };
    },
  };
}

export type AgentRequestDecider = ReturnType<typeof buildDecider>;
