import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ErrorCode, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AgentTokenCaller, authenticateAgentToken, sameDelegation } from '../../delegation/index.js';
import { GatehouseError, isGatehouseError } from '../../errors/index.js';
import { createId } from '../../lib/ids.js';
import { principalOfAgent } from '../../policy-runtime/index.js';
import type { Gatehouse } from '../../server/create-gatehouse.js';
import { toolPinningOf } from '../pinning/index.js';
import { bearerChallenge } from './agent-auth.js';
import { createGatewayServer } from './gateway-session.js';
import type { UpstreamPort } from './ports.js';
import { createResultRedactor } from './result-redaction.js';
import { RPC_ERROR_CODES } from './rpc-errors.js';
import type { CallerContext } from './tool-call.js';
import { createToolCatalog } from './tool-catalog.js';

/** Header an agent may send at initialize to join a task session an admin created (with its scope). */
export const TASK_SESSION_HEADER = 'gatehouse-session';
const PARSE_FAILED = Symbol('parse-failed');

interface OpenSession {
  transport: StreamableHTTPServerTransport;
  server: Server;
  caller: CallerContext;
  lastSeenAt: number;
}

export interface McpEndpoint {
  /** Open MCP sessions on this process. */
  sessionCount(): number;
  close(): Promise<void>;
}

/**
 * The agent-facing MCP endpoint: Streamable HTTP at `/mcp`, one SDK server per MCP session, every request
 * authenticated with the agent's access token, and every MCP session bound to a Gatehouse session.
 */
export async function registerMcpEndpoint(
  app: FastifyInstance,
  deps: { gatehouse: Gatehouse; upstreams: UpstreamPort; log: (line: string) => void },
): Promise<McpEndpoint> {
  const { gatehouse } = deps;
  const catalog = createToolCatalog(deps.upstreams, deps.log);
  const pinning = toolPinningOf(gatehouse, deps.log);
  const gateway = {
    gatehouse,
    upstreams: deps.upstreams,
    catalog,
    redactor: createResultRedactor(gatehouse),
    pinning,
  };
  // Every tool list an upstream publishes is stored for reviews and checked against the agents' pins.
  const stopObserving = deps.upstreams.onToolsChanged((upstream) => {
    void deps.upstreams
      .listTools()
      .then((tools) => pinning.observe(tools, upstream))
      .catch(() => {});
  });
  await pinning.observe(await deps.upstreams.listTools());
  const sessions = new Map<string, OpenSession>();
  // Agents learn of upstream tool changes (a restart with new tools, `list_changed`) as MCP asks.
  const stopListening = deps.upstreams.onToolsChanged(() => {
    for (const session of sessions.values()) void session.server.sendToolListChanged().catch(() => {});
  });

  const sweep = setInterval(() => {
    const idleSince = gatehouse.clock.now() - gatehouse.config.mcp.sessionIdleTimeout;
    for (const [id, session] of sessions) {
      if (session.lastSeenAt < idleSince) void closeSession(id, 'idle');
    }
  }, 60_000);
  sweep.unref();

  const closeSession = async (id: string, reason: string) => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    await session.transport.close().catch(() => {});
    await gatehouse.audit
      .record({
        actor: `agent:${session.caller.agent.id}`,
        action: 'mcp.session.closed',
        target: `session:${session.caller.sessionId}`,
        details: { mcpSession: id, reason },
      })
      .catch(() => {});
  };

  const openSession = async (auth: AgentTokenCaller, request: FastifyRequest): Promise<OpenSession> => {
    const { agent, delegation } = auth;
    const taskId = request.headers[TASK_SESSION_HEADER];
    let sessionId: string;
    if (typeof taskId === 'string' && taskId !== '') {
      const task = await gatehouse.sessions.get(taskId);
      if (task.agentId !== agent.id)
        throw new GatehouseError('forbidden', `session \`${taskId}\` belongs to another agent`);
      // A delegated token brings its own user and chain: it cannot borrow a task session made for another.
      if (delegation.chain.length > 0 && JSON.stringify(task.chain) !== JSON.stringify(delegation.chain)) {
        throw new GatehouseError('forbidden', `session \`${taskId}\` runs under another delegation`);
      }
      sessionId = task.id;
    } else {
      // The token's task scope becomes the session's scope; its user and chain are what policies see.
      sessionId = (
        await gatehouse.sessions.start({
          agentId: agent.id,
          scope: delegation.task ?? {},
          user: delegation.user ?? null,
          chain: delegation.chain,
        })
      ).id;
      // For `gatehouse sessions graph`: which token (and so which delegation tree) opened the session.
      await gatehouse.store.delegations.linkSession({
        sessionId,
        jti: delegation.jti,
        openedAt: gatehouse.clock.now(),
      });
    }
    const caller: CallerContext = {
      agent,
      principal: await principalOfAgent(gatehouse.store, agent),
      sessionId,
      mcpSessionId: '',
      delegation,
    };
    const session: OpenSession = {
      caller,
      server: createGatewayServer(gateway, caller),
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: () => createId('mcp'),
        onsessioninitialized: (id) => {
          caller.mcpSessionId = id;
          sessions.set(id, session);
          void gatehouse.audit.record({
            actor: `agent:${agent.id}`,
            action: 'mcp.session.opened',
            target: `session:${sessionId}`,
            details: { mcpSession: id, scope: typeof taskId === 'string' ? 'task' : 'token' },
          });
        },
        onsessionclosed: (id) => void closeSession(id, 'client'),
      }),
      lastSeenAt: gatehouse.clock.now(),
    };
    await session.server.connect(session.transport);
    return session;
  };

  await app.register(async (scoped) => {
    // MCP wants JSON-RPC errors, not problem+json, for bodies that are not JSON.
    scoped.removeContentTypeParser('application/json');
    scoped.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: gatehouse.config.mcp.maxMessageBytes },
      (_request, body, done) => {
        try {
          done(null, JSON.parse(body as string));
        } catch {
          done(null, PARSE_FAILED);
        }
      },
    );
    scoped.route({
      method: ['GET', 'POST', 'DELETE'],
      url: '/mcp',
      bodyLimit: gatehouse.config.mcp.maxMessageBytes,
      schema: { hide: true },
      handler: async (request, reply) => {
        if (request.body === PARSE_FAILED)
          return rpcError(reply, 400, ErrorCode.ParseError, 'the body is not JSON');
        let auth: AgentTokenCaller;
        try {
          auth = await authenticateAgentToken(gatehouse, request.headers.authorization);
        } catch (error) {
          return refuseAuthentication(gatehouse, reply, error);
        }
        const mcpSessionId = request.headers['mcp-session-id'];
        let session: OpenSession | undefined;
        if (typeof mcpSessionId === 'string') {
          session = sessions.get(mcpSessionId);
          if (!session)
            return rpcError(
              reply,
              404,
              -32001,
              'MCP session not found; initialize a new one',
              'mcp_session_not_found',
            );
          if (session.caller.agent.id !== auth.agent.id) {
            return rpcError(
              reply,
              403,
              RPC_ERROR_CODES.agent_inactive ?? -32030,
              'this MCP session belongs to another agent',
              'forbidden',
            );
          }
          if (!sameDelegation(session.caller.delegation, auth.delegation)) {
            return rpcError(
              reply,
              403,
              RPC_ERROR_CODES.agent_inactive ?? -32030,
              'this MCP session runs under another delegation (user and chain)',
              'forbidden',
            );
          }
        } else if (request.method === 'POST' && isInitializeRequest(request.body)) {
          try {
            session = await openSession(auth, request);
          } catch (error) {
            if (!isGatehouseError(error) || !error.expose) throw error;
            return rpcError(reply, error.status, -32000, error.message, error.code);
          }
        } else {
          return rpcError(
            reply,
            400,
            ErrorCode.InvalidRequest,
            'no MCP session: send initialize first, or the Mcp-Session-Id header',
          );
        }
        // The agent may have changed (review, labels, team) since the session opened: decide with it as it is now.
        session.caller.agent = auth.agent;
        session.caller.principal = await principalOfAgent(gatehouse.store, auth.agent);
        session.caller.delegation = auth.delegation;
        session.lastSeenAt = gatehouse.clock.now();
        reply.hijack();
        const raw = request.raw as IncomingMessage & { auth?: AuthInfo };
        raw.auth = {
          token: auth.token,
          clientId: auth.agent.id,
          scopes: [],
          extra: { agentId: auth.agent.id },
        };
        await session.transport.handleRequest(raw, reply.raw, request.body);
      },
    });
  });

  app.get(
    '/.well-known/oauth-protected-resource',
    { schema: { tags: ['mcp'], summary: 'OAuth protected resource metadata (RFC 9728) for /mcp' } },
    async () => ({
      resource: `${gatehouse.issuer}/mcp`,
      authorization_servers: [gatehouse.issuer],
      bearer_methods_supported: ['header'],
      resource_name: 'Gatehouse MCP gateway',
    }),
  );

  return {
    sessionCount: () => sessions.size,
    async close() {
      clearInterval(sweep);
      stopListening();
      stopObserving();
      await Promise.all([...sessions.keys()].map((id) => closeSession(id, 'shutdown')));
    },
  };
}

async function refuseAuthentication(gatehouse: Gatehouse, reply: FastifyReply, error: unknown) {
  if (isGatehouseError(error) && error.code === 'agent_inactive') {
    await gatehouse.audit.record({
      actor: 'system',
      action: 'mcp.request.refused',
      target: null,
      details: { code: error.code, reason: error.message },
    });
    return rpcError(reply, 403, RPC_ERROR_CODES.agent_inactive ?? -32030, error.message, 'agent_inactive');
  }
  if (isGatehouseError(error) && (error.code === 'invalid_token' || error.code === 'unauthorized')) {
    const reason = error.details?.reason;
    // A presented token that fails is an attempt worth a trace; a request with no token at all is not.
    if (reason !== 'missing') {
      await gatehouse.audit.record({
        actor: 'anonymous',
        action: 'mcp.request.refused',
        target: null,
        details: {
          code: 'invalid_token',
          reason: typeof reason === 'string' ? reason : 'invalid',
          message: error.message,
        },
      });
    }
    reply.header('www-authenticate', bearerChallenge(gatehouse, 'invalid_token'));
    return rpcError(reply, 401, -32001, error.message, 'invalid_token');
  }
  throw error;
}

function rpcError(
  reply: FastifyReply,
  status: number,
  code: number,
  message: string,
  gatehouseCode?: string,
) {
  return reply
    .status(status)
    .type('application/json')
    .send({
      jsonrpc: '2.0',
      id: null,
      error: { code, message, ...(gatehouseCode ? { data: { code: gatehouseCode } } : {}) },
    });
}
