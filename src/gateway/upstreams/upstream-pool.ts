import type {
  CallToolResult,
  GetPromptResult,
  Implementation,
  ReadResourceResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { UpstreamConfig } from '../../config/index.js';
import { GatehouseError } from '../../errors/index.js';
import { type Clock, systemClock } from '../../lib/clock.js';
import type { BackoffOptions } from './backoff.js';
import { namespacedName, splitNamespacedName } from './namespaced-name.js';
import type {
  ResolveUpstreamCredentials,
  UpstreamCallOptions,
  UpstreamListChange,
  UpstreamPrompt,
  UpstreamResource,
  UpstreamResourceTemplate,
  UpstreamStatus,
  UpstreamTool,
} from './types.js';
import { createUpstreamConnection, type UpstreamConnection } from './upstream-connection.js';

export interface UpstreamPoolOptions {
  upstreams: UpstreamConfig[];
  /** Called at each (re)connect; the values go into the child's environment or the HTTP headers, nowhere else. */
  credentials: ResolveUpstreamCredentials;
  /** Request timeout when neither the call nor the upstream's `timeout` sets one. */
  defaultTimeoutMs: number;
  /** Operational lines: lifecycle, and each stderr line of stdio upstreams prefixed `[<upstream>] `. */
  log: (line: string) => void;
  clientInfo: Implementation;
  clock?: Clock;
  /** Reconnection spacing; default 250 ms doubling to 30 s, with jitter. */
  backoff?: BackoffOptions;
  /** How long the MCP handshake may take. Default 10 s. */
  connectTimeoutMs?: number;
  /** Ping period of a ready connection; a failed ping reconnects (how a dead HTTP upstream is noticed). Default 30 s; 0 disables. */
  healthCheckIntervalMs?: number;
  /** On close: grace after stdin closes, and again after SIGTERM, before SIGTERM / SIGKILL. Default 2 s. */
  shutdownGraceMs?: number;
  /** A connection that lived this long resets the backoff. Default 10 s. */
  stableAfterMs?: number;
}

/** Gatehouse's client side: one MCP connection per configured upstream, kept alive, with namespaced tools. */
export interface UpstreamPool {
  /** Connects every upstream in parallel; resolves when each is ready or down (one down never blocks others). */
  start(): Promise<void>;
  /** Stops reconnecting, closes every session and ends every child process. */
  close(): Promise<void>;
  status(): UpstreamStatus[];
  /** Tools of every upstream, namespaced `<upstream>.<tool>`; an upstream that is reconnecting keeps its last list. */
  listTools(): Promise<UpstreamTool[]>;
  /** Calls `<upstream>.<tool>` and returns the upstream's result as it is (a tool error is `isError: true`). */
  callTool(
    name: string,
    args: Record<string, unknown>,
    options?: UpstreamCallOptions,
  ): Promise<CallToolResult>;
  /** Resources with their URIs unchanged, tagged with their upstream. */
  listResources(): Promise<UpstreamResource[]>;
  listResourceTemplates(): Promise<UpstreamResourceTemplate[]>;
  readResource(upstream: string, uri: string, options?: UpstreamCallOptions): Promise<ReadResourceResult>;
  /** Prompts namespaced `<upstream>.<prompt>`. */
  listPrompts(): Promise<UpstreamPrompt[]>;
  getPrompt(
    name: string,
    args: Record<string, string>,
    options?: UpstreamCallOptions,
  ): Promise<GetPromptResult>;
  transportOf(upstream: string): 'stdio' | 'http' | undefined;
  /** Called with the upstream's name when its tool list changed (connect, reconnect, `list_changed`). */
  onToolsChanged(listener: (upstream: string) => void): () => void;
  /** Any list change: tools, resources, resource templates, prompts. */
  onListChanged(listener: (change: UpstreamListChange) => void): () => void;
  /** Called with an upstream's status when its state changes. */
  onStatusChanged(listener: (status: UpstreamStatus) => void): () => void;
}

/**
 * Creates the upstream pool. Nothing connects until `start()`.
 *
 * @example
 * const pool = createUpstreamPool({ upstreams: config.upstreams, credentials, defaultTimeoutMs: 30_000,
 *   log: console.error, clientInfo: { name: 'gatehouse', version } });
 * await pool.start();
 * const result = await pool.callTool('fs.read_text_file', { path: '/data/a.txt' }, { signal });
 */
export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  const listChanged = new Set<(change: UpstreamListChange) => void>();
  const statusChanged = new Set<(status: UpstreamStatus) => void>();
  const connections = new Map<string, UpstreamConnection>();
  let started: Promise<void> | undefined;

  const emit = <T>(listeners: Set<(value: T) => void>, value: T) => {
    for (const listener of listeners) {
      try {
        listener(value);
      } catch (error) {
        options.log(`upstream listener failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };

  for (const config of options.upstreams) {
    if (connections.has(config.name)) {
      throw new GatehouseError('invalid_config', `upstream \`${config.name}\` is configured twice`);
    }
    const connection: UpstreamConnection = createUpstreamConnection({
      config,
      clientInfo: options.clientInfo,
      credentials: options.credentials,
      log: options.log,
      clock: options.clock ?? systemClock,
      backoff: options.backoff ?? {},
      requestTimeoutMs: options.defaultTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      healthCheckIntervalMs: options.healthCheckIntervalMs ?? 30_000,
      shutdownGraceMs: options.shutdownGraceMs ?? 2_000,
      stableAfterMs: options.stableAfterMs ?? 10_000,
      onListChanged: (kind) => emit(listChanged, { upstream: config.name, kind }),
      onStatusChanged: () => emit(statusChanged, connection.status()),
    });
    connections.set(config.name, connection);
  }

  /** Lists are read after the first connection attempts, so a fresh pool does not look empty. */
  const settled = async () => {
    if (started) await started;
  };

  const connectionFor = (upstream: string, what: string): UpstreamConnection => {
    const connection = connections.get(upstream);
    if (!connection) throw new GatehouseError('tool_not_found', `no ${what}`, { details: { upstream } });
    return connection;
  };

  const subscribe = <T>(listeners: Set<T>, listener: T) => {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  };

  return {
    start() {
      started ??= Promise.all([...connections.values()].map((connection) => connection.start())).then(
        () => {},
      );
      return started;
    },

    async close() {
      await Promise.all([...connections.values()].map((connection) => connection.close()));
    },

    status: () => [...connections.values()].map((connection) => connection.status()),

    async listTools() {
      await settled();
      return [...connections.values()].flatMap((connection) =>
        (connection.lists()?.tools ?? []).map((tool) => ({
          upstream: connection.name,
          name: namespacedName(connection.name, tool.name),
          tool,
        })),
      );
    },

    async callTool(name, args, callOptions = {}) {
      const parts = splitNamespacedName(name);
      const connection = parts ? connections.get(parts.upstream) : undefined;
      const known = connection?.lists()?.tools;
      if (!parts || !connection || (known && !known.some((tool) => tool.name === parts.name))) {
        throw new GatehouseError('tool_not_found', `no tool \`${name}\``, {
          details: parts && connection ? { upstream: parts.upstream } : {},
        });
      }
      const { meta } = callOptions;
      return connection.request(`tool \`${name}\``, callOptions, (client, requestOptions) =>
        client.callTool(
          { name: parts.name, arguments: args, ...(meta ? { _meta: meta } : {}) },
          undefined,
          requestOptions,
        ),
      ) as Promise<CallToolResult>;
    },

    async listResources() {
      await settled();
      return [...connections.values()].flatMap((connection) =>
        (connection.lists()?.resources ?? []).map((resource) => ({ upstream: connection.name, resource })),
      );
    },

    async listResourceTemplates() {
      await settled();
      return [...connections.values()].flatMap((connection) =>
        (connection.lists()?.resourceTemplates ?? []).map((resourceTemplate) => ({
          upstream: connection.name,
          resourceTemplate,
        })),
      );
    },

    async readResource(upstream, uri, callOptions = {}) {
      const connection = connectionFor(upstream, `upstream \`${upstream}\` for resource \`${uri}\``);
      const { meta } = callOptions;
      return connection.request(`resource \`${uri}\``, callOptions, (client, requestOptions) =>
        client.readResource({ uri, ...(meta ? { _meta: meta } : {}) }, requestOptions),
      );
    },

    async listPrompts() {
      await settled();
      return [...connections.values()].flatMap((connection) =>
        (connection.lists()?.prompts ?? []).map((prompt) => ({
          upstream: connection.name,
          name: namespacedName(connection.name, prompt.name),
          prompt,
        })),
      );
    },

    async getPrompt(name, args, callOptions = {}) {
      const parts = splitNamespacedName(name);
      if (!parts) throw new GatehouseError('tool_not_found', `no prompt \`${name}\``);
      const connection = connectionFor(parts.upstream, `prompt \`${name}\``);
      const { meta } = callOptions;
      return connection.request(`prompt \`${name}\``, callOptions, (client, requestOptions) =>
        client.getPrompt(
          { name: parts.name, arguments: args, ...(meta ? { _meta: meta } : {}) },
          requestOptions,
        ),
      );
    },

    transportOf: (upstream) => connections.get(upstream)?.transport,

    onToolsChanged: (listener) =>
      subscribe(listChanged, (change: UpstreamListChange) => {
        if (change.kind === 'tools') listener(change.upstream);
      }),

    onListChanged: (listener) => subscribe(listChanged, listener),

    onStatusChanged: (listener) => subscribe(statusChanged, listener),
  };
}
