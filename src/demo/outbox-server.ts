import { createServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import {
  capabilityFromRequest,
  createCapabilityVerifier,
  isCapabilityVerificationError,
} from '../verify/index.js';

export interface OutboxMessage {
  to: string;
  text: string;
  /** The capability's `jti`: which authorized call sent it. */
  capability: string;
}

export interface OutboxServer {
  url: string;
  messages: OutboxMessage[];
  /** Every capability presented, as received: lets a test replay one. */
  presented: string[];
  /** Calls refused because their capability did not verify, with the verifier's code. */
  refused: Array<{ tool: string; code: string }>;
  close(): Promise<void>;
}

/**
 * A small HTTP MCP tool server of our own, standing for any outbound channel (webhook, chat, mail): it trusts no
 * caller and checks every call's Gatehouse capability with `gatehouse/verify` — signature, audience, expiry,
 * single use and argument hash — before doing anything. Used by the demo and the end-to-end tests.
 */
export async function startOutboxServer(options: {
  issuer: string;
  audience: string;
  port?: number;
}): Promise<OutboxServer> {
  const verifier = createCapabilityVerifier({
    issuer: options.issuer,
    audience: options.audience,
    jwksUrl: `${options.issuer}/.well-known/jwks.json`,
  });
  const messages: OutboxMessage[] = [];
  const refused: OutboxServer['refused'] = [];
  const presented: string[] = [];

  const authorize = async (
    tool: string,
    args: unknown,
    extra: { requestInfo?: { headers: IncomingMessage['headers'] }; _meta?: Record<string, unknown> },
  ) => {
    try {
      const token = capabilityFromRequest({
        headers: extra.requestInfo?.headers ?? null,
        meta: extra._meta ?? null,
      });
      if (token) presented.push(token);
      return await verifier.verify(token, { tool, args });
    } catch (error) {
      const code = isCapabilityVerificationError(error) ? error.code : 'capability_invalid';
      refused.push({ tool, code });
      throw new Error(`refused: ${code}`);
    }
  };

  const mcpServer = () => {
    const server = new McpServer({ name: 'outbox', version: '1.0.0' });
    server.registerTool(
      'post_message',
      {
        description: 'Send a message to a recipient outside the company (webhook, chat or mail).',
        inputSchema: { to: z.string().min(1), text: z.string() },
      },
      async (args, extra) => {
        const claims = await authorize('post_message', args, extra);
        messages.push({ to: args.to, text: args.text, capability: claims.jti });
        return { content: [{ type: 'text', text: `sent message #${messages.length} to ${args.to}` }] };
      },
    );
    server.registerTool(
      'list_messages',
      { description: 'Messages sent so far.', inputSchema: {} },
      async (args, extra) => {
        await authorize('list_messages', args, extra);
        return {
          content: [{ type: 'text', text: JSON.stringify(messages.map(({ to, text }) => ({ to, text }))) }],
        };
      },
    );
    return server;
  };

  // Stateless Streamable HTTP: a fresh server and transport per request.
  const http: HttpServer = createServer(async (request, response) => {
    if (request.url !== '/mcp') {
      response.writeHead(404).end();
      return;
    }
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const server = mcpServer();
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request, response);
  });
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    messages,
    presented,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
