import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  type ProgressNotification,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError } from '../../errors/index.js';
import { mayEverRun } from '../../policy/index.js';
import { toRpcError } from './rpc-errors.js';
import { type CallerContext, type GatewayDeps, runGuardedCall, runToolCall } from './tool-call.js';

export const GATEWAY_SERVER_INFO = { name: 'gatehouse', version: '0.1.0' };

/** Policy names for what is not a tool: a resource read and a prompt are decided like calls. */
export const resourceReadTool = (upstream: string) => `${upstream}.resource.read`;
export const promptTool = (name: string) => {
  const dot = name.indexOf('.');
  return `${name.slice(0, dot)}.prompt.${name.slice(dot + 1)}`;
};

/**
 * The MCP server one agent session talks to: lists only what the agent could ever be allowed to use, and sends
 * every call, resource read and prompt through the policy, the capability and the audit.
 */
export function createGatewayServer(deps: GatewayDeps, caller: CallerContext): Server {
  const server = new Server(GATEWAY_SERVER_INFO, {
    capabilities: { tools: { listChanged: true }, resources: {}, prompts: {} },
    instructions:
      "Tools are the upstream servers' tools, named <upstream>.<tool>. Every call is authorized by Gatehouse policy; " +
      'a refused call returns an error whose data.code and message say why.',
  });
  const visible = (name: string) => mayEverRun(deps.gatehouse.policies.active(), caller.principal, name);
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw toRpcError(error);
    }
  };

  server.setRequestHandler(ListToolsRequestSchema, () =>
    guard(async () => {
      const listed = (await deps.catalog.list()).filter((tool) => visible(tool.name));
      // Tools whose definition differs from what was reviewed for this agent stay hidden (tool pinning).
      const held = await deps.pinning.held(caller, listed);
      return {
        tools: listed
          .filter((tool) => !held.has(tool.name))
          .map((tool) => ({ ...tool.tool, name: tool.name })),
      };
    }),
  );

  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    guard(() =>
      runToolCall(deps, caller, request.params.name, request.params.arguments ?? {}, {
        signal: extra.signal,
        onProgress: progressRelay(request.params._meta?.progressToken, extra.sendNotification),
      }),
    ),
  );

  server.setRequestHandler(ListResourcesRequestSchema, () =>
    guard(async () => ({
      resources: (await deps.upstreams.listResources())
        .filter((entry) => visible(resourceReadTool(entry.upstream)))
        .map((entry) => ({
          ...entry.resource,
          _meta: { ...entry.resource._meta, 'dev.gatehouse/upstream': entry.upstream },
        })),
    })),
  );

  server.setRequestHandler(ReadResourceRequestSchema, (request, extra) =>
    guard(async () => {
      const { uri } = request.params;
      const owner = (await deps.upstreams.listResources()).find((entry) => entry.resource.uri === uri);
      if (!owner) throw new GatehouseError('tool_not_found', `no resource \`${uri}\``);
      return runGuardedCall(
        deps,
        caller,
        { policyTool: resourceReadTool(owner.upstream), upstream: owner.upstream, args: { uri } },
        { signal: extra.signal },
        (options) => deps.upstreams.readResource(owner.upstream, uri, options),
      );
    }),
  );

  server.setRequestHandler(ListPromptsRequestSchema, () =>
    guard(async () => ({
      prompts: (await deps.upstreams.listPrompts())
        .filter((entry) => visible(promptTool(entry.name)))
        .map((entry) => ({ ...entry.prompt, name: entry.name })),
    })),
  );

  server.setRequestHandler(GetPromptRequestSchema, (request, extra) =>
    guard(async () => {
      const { name } = request.params;
      const args = request.params.arguments ?? {};
      const known = (await deps.upstreams.listPrompts()).find((entry) => entry.name === name);
      if (!known) throw new GatehouseError('tool_not_found', `no prompt \`${name}\``);
      const action = { policyTool: promptTool(name), upstream: known.upstream, args };
      return runGuardedCall(deps, caller, action, { signal: extra.signal }, (options) =>
        deps.upstreams.getPrompt(name, args, options),
      );
    }),
  );

  return server;
}

function progressRelay(
  token: string | number | undefined,
  send: (notification: ProgressNotification) => Promise<void>,
) {
  if (token === undefined) return undefined;
  return (progress: { progress: number; total?: number; message?: string }) => {
    void send({ method: 'notifications/progress', params: { progressToken: token, ...progress } }).catch(
      () => {},
    );
  };
}
