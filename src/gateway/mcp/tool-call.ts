import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { mintCapability, redeemCapability } from '../../capabilities/index.js';
import { type Delegation, exchangeForAgentHop, toolInScope } from '../../delegation/index.js';
import { GatehouseError, isGatehouseError } from '../../errors/index.js';
import type { Decision, Principal } from '../../policy/index.js';
import type { Agent } from '../../registry/index.js';
import type { Gatehouse } from '../../server/create-gatehouse.js';
import { CAPABILITY_HEADER, CAPABILITY_META_KEY } from '../../verify/index.js';
import type { ToolPinning } from '../pinning/index.js';
import type { ForwardOptions, UpstreamPort } from './ports.js';
import type { ResultRedactor } from './result-redaction.js';
import type { ToolCatalog } from './tool-catalog.js';

/** Who is calling, in which sessions: fixed for the life of one MCP session. */
export interface CallerContext {
  agent: Agent;
  principal: Principal;
  /** The Gatehouse session (history, taint, counters). */
  sessionId: string;
  /** The MCP transport session, for the audit. */
  mcpSessionId: string;
  /** What the agent's token carries: the user and chain it acts for, its tool scope and task (docs/delegation.md). */
  delegation?: Delegation;
}

export interface GatewayDeps {
  gatehouse: Gatehouse;
  upstreams: UpstreamPort;
  catalog: ToolCatalog;
  redactor: ResultRedactor;
  /** Hides and refuses tools whose definition differs from what was reviewed for the agent. */
  pinning: ToolPinning;
}

export interface CallControls {
  signal: AbortSignal;
  onProgress?: ForwardOptions['onProgress'];
}

/**
 * One tool call through the gateway: the tool must exist and the arguments fit its schema; the policy decides
 * with the session's history; an allowed call gets a single-use capability, redeemed once, and is forwarded
 * with it; decision and outcome are audited, and the result is released only once both entries are durable.
 */
export async function runToolCall(
  deps: GatewayDeps,
  caller: CallerContext,
  name: string,
  args: unknown,
  controls: CallControls,
): Promise<CallToolResult> {
  const { gatehouse } = deps;
  const actor = `agent:${caller.agent.id}`;
  const target = `session:${caller.sessionId}`;
  const tool = await deps.catalog.find(name);
  if (!tool) {
    await refuse(gatehouse, actor, target, name, 'tool_not_found');
    throw new GatehouseError('tool_not_found', `no tool \`${name}\``);
  }
  const held = (await deps.pinning.held(caller, [tool])).get(name);
  if (held) {
    await refuse(gatehouse, actor, target, name, 'tool_held');
    throw new GatehouseError(
      'tool_held',
      held.kind === 'changed'
        ? `\`${name}\` changed since it was reviewed and is held until a reviewer accepts the change`
        : `\`${name}\` is new and is held until a reviewer accepts it`,
      { details: { tool: name, kind: held.kind } },
    );
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    await refuse(gatehouse, actor, target, name, 'invalid_arguments');
    throw new GatehouseError('invalid_arguments', `arguments of \`${name}\` must be an object`);
  }
  const callArgs = args as Record<string, unknown>;
  if (tool.validate && !tool.validate(callArgs)) {
    const problem = tool.validate.errors?.[0];
    await refuse(gatehouse, actor, target, name, 'invalid_arguments');
    throw new GatehouseError(
      'invalid_arguments',
      `arguments of \`${name}\` do not match its input schema: ${problem ? `${problem.instancePath || '/'} ${problem.message}` : 'invalid'}`,
    );
  }

  return runGuardedCall(
    deps,
    caller,
    { policyTool: name, upstream: tool.upstream, args: callArgs },
    controls,
    (options) => deps.upstreams.callTool(name, callArgs, options),
  );
}

/** What is decided: the policy's name for the action, the upstream that serves it, and its arguments. */
export interface GuardedAction {
  policyTool: string;
  upstream: string;
  args: Record<string, unknown>;
}

/**
 * The shared core of tool calls, resource reads and prompt requests: decide with the session's history, audit
 * the decision, and for an allowed action mint and redeem a single-use capability, forward it with the
 * capability attached, audit the outcome, and release the result only once both audit entries are durable.
 */
export async function runGuardedCall<T>(
  deps: GatewayDeps,
  caller: CallerContext,
  action: GuardedAction,
  controls: CallControls,
  forward: (options: ForwardOptions) => Promise<T>,
): Promise<T> {
  const { gatehouse } = deps;
  const actor = `agent:${caller.agent.id}`;
  const target = `session:${caller.sessionId}`;
  const name = action.policyTool;
  const callArgs = action.args;
  // The capability names the tool as the upstream knows it; `aud` (the upstream) supplies the namespace.
  const localTool = name.startsWith(`${action.upstream}.`) ? name.slice(action.upstream.length + 1) : name;
  // A delegated token narrows what its holder may call, whatever the policy would allow.
  if (caller.delegation && !toolInScope(caller.delegation.tools, name)) {
    await refuse(gatehouse, actor, target, name, 'insufficient_scope');
    throw new GatehouseError('insufficient_scope', `the token's scope does not include \`${name}\``);
  }
  const chain = caller.delegation?.chain ?? [];
  const { decision, shadow, step } = await gatehouse.sessions.decide({
    sessionId: caller.sessionId,
    principal: caller.principal,
    call: { tool: name, args: callArgs },
  });
  const decided = gatehouse.audit.record({
    actor,
    action: 'mcp.call.decided',
    target,
    details: {
      mcpSession: caller.mcpSessionId,
      step,
      tool: name,
      effect: decision.effect,
      code: decision.code,
      ruleIds: decision.ruleIds,
      reason: decision.reason,
      bundle: decision.bundleVersion,
      ...(chain.length > 0 ? { chain } : {}),
      ...(shadow && shadow.effect !== decision.effect
        ? { shadow: { effect: shadow.effect, ruleIds: shadow.ruleIds, bundle: shadow.bundleVersion } }
        : {}),
    },
  });
  if (decision.effect === 'deny') {
    await decided;
    throw refusalOf(decision);
  }
  // A call that needs people waits for them (bounded); the approval is for this exact call, and it runs once.
  let approvalId: string | undefined;
  if (decision.effect === 'approve') {
    await decided;
    try {
      approvalId = await gatehouse.approvals.awaitApproval(
        { agentId: caller.agent.id, sessionId: caller.sessionId, tool: name, args: callArgs, decision },
        { signal: controls.signal, ...(controls.onProgress ? { onProgress: controls.onProgress } : {}) },
      );
      // The approved call runs: its history entry (taint, counters, trajectories) counts it as allowed.
      await gatehouse.sessions.recordApprovedRun({
        sessionId: caller.sessionId,
        principal: caller.principal,
        call: { tool: name, args: callArgs },
        decision,
      });
    } catch (error) {
      await refuse(gatehouse, actor, target, name, isGatehouseError(error) ? error.code : 'internal_error');
      throw error;
    }
  }
  if (decision.effect === 'flag') {
    void gatehouse.audit.record({
      actor,
      action: 'alert.flagged_call',
      target,
      details: { step, tool: name, ruleIds: decision.ruleIds, reason: decision.reason },
    });
  }

  const started = performance.now();
  let outcome = 'ok';
  let resultBytes = 0;
  try {
    const capability = await mintCapability(
      {
        keyring: gatehouse.keyring,
        issuer: gatehouse.issuer,
        clock: gatehouse.clock,
        ttlMs: gatehouse.config.mcp.capabilityTtl,
      },
      {
        agentId: caller.agent.id,
        sessionId: caller.sessionId,
        audience: action.upstream,
        tool: localTool,
        args: callArgs,
        ...(caller.delegation?.act ? { act: caller.delegation.act } : {}),
        ...(caller.delegation?.user ? { userId: caller.delegation.user.id } : {}),
      },
    );
    // Redeemed here, exactly once, before anything is forwarded; the upstream may check it again itself.
    await redeemCapability(
      {
        keyring: gatehouse.keyring,
        issuer: gatehouse.issuer,
        clock: gatehouse.clock,
        store: gatehouse.store,
      },
      capability.token,
      { audience: action.upstream, tool: localTool, args: callArgs, sessionId: caller.sessionId },
    );
    // An upstream that is itself an agent gets a token of its own, exchanged here, with the chain extended.
    const hopHeaders = await exchangeForAgentHop(gatehouse, caller, {
      upstream: action.upstream,
      tool: name,
    });
    const result = await forward({
      signal: controls.signal,
      timeoutMs: gatehouse.config.mcp.callTimeout,
      ...(controls.onProgress ? { onProgress: controls.onProgress } : {}),
      meta: { [CAPABILITY_META_KEY]: capability.token },
      ...(deps.upstreams.transportOf(action.upstream) === 'http'
        ? { headers: { [CAPABILITY_HEADER]: capability.token, ...hopHeaders } }
        : {}),
    });
    const redacted = await deps.redactor.redact(result);
    resultBytes = Buffer.byteLength(JSON.stringify(redacted) ?? '');
    if ((redacted as { isError?: boolean }).isError) outcome = 'tool_error';
    return redacted;
  } catch (error) {
    outcome = isGatehouseError(error) ? error.code : 'internal_error';
    throw error;
  } finally {
    const completed = gatehouse.audit.record({
      actor,
      action: 'mcp.call.completed',
      target,
      details: {
        mcpSession: caller.mcpSessionId,
        step,
        tool: name,
        outcome,
        ...(approvalId ? { approval: approvalId } : {}),
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        resultBytes,
      },
    });
    // Nothing reaches the agent before its call's audit entries are durable.
    await Promise.all([decided, completed]);
  }
}

function refusalOf(decision: Decision): GatehouseError {
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
      effect: decision.effect,
      decision: decision.code,
      ruleIds: decision.ruleIds,
      ...(decision.approval ? { approvers: decision.approval.approvers } : {}),
    },
  });
}

async function refuse(gatehouse: Gatehouse, actor: string, target: string, tool: string, code: string) {
  await gatehouse.audit.record({ actor, action: 'mcp.call.refused', target, details: { tool, code } });
}
