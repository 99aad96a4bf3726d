import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type Implementation,
  type Prompt,
  PromptListChangedNotificationSchema,
  type Resource,
  ResourceListChangedNotificationSchema,
  type ResourceTemplate,
  type ServerCapabilities,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { UpstreamConfig } from '../../config/index.js';
import { GatehouseError, isGatehouseError } from '../../errors/index.js';
import type { Clock } from '../../lib/clock.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { createCallHeaderFetch, withCallHeaders } from './call-headers.js';
import { trackChild, untrackChild } from './child-reaper.js';
import { createRedactor, type Redact } from './secret-redactor.js';
import { forEachLine } from './stderr-lines.js';
import type {
  ResolveUpstreamCredentials,
  UpstreamCallOptions,
  UpstreamCredentials,
  UpstreamListKind,
  UpstreamState,
  UpstreamStatus,
} from './types.js';
import {
  describeFailure,
  isConnectionFailure,
  toUpstreamError,
  upstreamUnavailable,
} from './upstream-failure.js';

export interface UpstreamConnectionOptions {
  config: UpstreamConfig;
  clientInfo: Implementation;
  credentials: ResolveUpstreamCredentials;
  log: (line: string) => void;
  clock: Clock;
  backoff: BackoffOptions;
  /** Timeout of a request without its own (pool default, or the upstream's `timeout`). */
  requestTimeoutMs: number;
  /** How long the MCP handshake may take. */
  connectTimeoutMs: number;
  /** A ready connection is pinged this often; a failed ping reconnects. 0 disables. */
  healthCheckIntervalMs: number;
  /** On close, how long a child gets after stdin closes (and again after SIGTERM) before the next signal. */
  shutdownGraceMs: number;
  /** A connection that lived this long resets the backoff; one that dies sooner keeps climbing it. */
  stableAfterMs: number;
  onListChanged: (kind: UpstreamListKind) => void;
  onStatusChanged: () => void;
}

/** Everything the pool asks of one upstream. */
export interface UpstreamConnection {
  readonly name: string;
  readonly transport: 'stdio' | 'http';
  /** First connection attempt; settles when ready or down, never rejects. */
  start(): Promise<void>;
  /** Stops reconnecting, ends the session and the child process. */
  close(): Promise<void>;
  status(): UpstreamStatus;
  /** The last known lists (kept while reconnecting); undefined before the first successful connection. */
  lists(): UpstreamLists | undefined;
  /**
   * Runs one request on the ready client with the call's controls (timeout, cancellation, progress, per-call
   * headers), mapping any failure to a GatehouseError. Waits for a connection attempt in progress.
   */
  request<T>(
    subject: string,
    options: UpstreamCallOptions,
    send: (client: Client, requestOptions: RequestOptions) => Promise<T>,
  ): Promise<T>;
}

export interface UpstreamLists {
  tools: Tool[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  prompts: Prompt[];
}

interface Live {
  generation: number;
  client: Client;
  transport: Transport;
  redact: Redact;
}

/** More pages than this from one list is a misbehaving upstream; stop there. */
const MAX_PAGES = 100;
const MAX_STDERR_TAIL = 200;

/**
 * A stdio transport that registers its child with the exit-time reaper as soon as it is spawned. `pid` goes null
 * once the child exited; `spawnedPid` stays, so the reaper entry can be removed whichever way the child ended.
 */
class TrackedStdioTransport extends StdioClientTransport {
  spawnedPid: number | null = null;

  override async start(): Promise<void> {
    await super.start();
    this.spawnedPid = this.pid;
    if (this.spawnedPid !== null) trackChild(this.spawnedPid);
  }
}

/** One upstream's connection: connects, reconnects with backoff, caches its lists, runs requests. */
export function createUpstreamConnection(options: UpstreamConnectionOptions): UpstreamConnection {
  const { config, log, clock } = options;
  const name = config.name;

  let state: UpstreamState = 'down';
  let lastError: string | null = null;
  let restarts = 0;
  let connectedAt: number | null = null;
  /** Consecutive failures: the backoff step. */
  let failures = 0;
  let generation = 0;
  let closed = false;
  let live: Live | undefined;
  /** The client and transport of an attempt in progress, so close() can end it too. */
  let pending: { client: Client; transport: Transport } | undefined;
  let connecting: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let healthTimer: NodeJS.Timeout | undefined;
  let lists: UpstreamLists | undefined;
  const listKeys = new Map<UpstreamListKind, string>();
  /** list_changed notifications received while the connection was not yet live: refreshed once it is. */
  const missedChanges = new Set<UpstreamListKind>();
  const refreshing = new Map<string, { again: boolean }>();

  const stale = (gen: number) => closed || gen !== generation;

  const setState = (next: UpstreamState) => {
    if (state === next) return;
    state = next;
    options.onStatusChanged();
  };

  const pidOf = (transport: Transport | undefined): number | null =>
    transport instanceof StdioClientTransport ? transport.pid : null;

  const applyList = <K extends UpstreamListKind>(kind: K, items: UpstreamLists[K]) => {
    const key = JSON.stringify(items);
    lists ??= { tools: [], resources: [], resourceTemplates: [], prompts: [] };
    lists[kind] = items;
    if (listKeys.get(kind) === key) return;
    listKeys.set(kind, key);
    options.onListChanged(kind);
  };

  const resolveCredentials = async (): Promise<UpstreamCredentials> => {
    let credentials: UpstreamCredentials;
    try {
      credentials = await options.credentials(config);
    } catch (error) {
      const reason = isGatehouseError(error) && error.expose ? error.message : 'lookup failed';
      throw new Error(`credentials unavailable: ${reason}`);
    }
    const missing =
      config.transport === 'stdio'
        ? Object.keys(config.secretEnv).filter((key) => credentials.env?.[key] === undefined)
        : Object.keys(config.secretHeaders).filter((key) => credentials.headers?.[key] === undefined);
    if (missing.length > 0) {
      throw new Error(
        `credentials unavailable: no value for ${missing.map((key) => `\`${key}\``).join(', ')}`,
      );
    }
    return credentials;
  };

  const secretsOf = (credentials: UpstreamCredentials): string[] => {
    const values = [...Object.values(credentials.env ?? {}), ...Object.values(credentials.headers ?? {})];
    // `Bearer <token>`: the token alone may be echoed back too.
    const parts = values.flatMap((value) => value.split(/\s+/).filter((part) => part.length >= 8));
    return [...values, ...parts];
  };

  const createTransport = (
    credentials: UpstreamCredentials,
    redact: Redact,
    onStderr: (line: string) => void,
  ): Transport => {
    if (config.transport === 'stdio') {
      // The SDK adds its safe default environment (HOME, PATH, ...) under these; nothing else is inherited.
      const transport = new TrackedStdioTransport({
        command: config.command,
        args: config.args,
        env: { ...config.env, ...credentials.env },
        stderr: 'pipe',
        ...(config.cwd === undefined ? {} : { cwd: config.cwd }),
      });
      if (transport.stderr) {
        forEachLine(transport.stderr, (line) => {
          const clean = redact(line);
          onStderr(clean);
          log(`[${name}] ${clean}`);
        });
      }
      return transport;
    }
    return new StreamableHTTPClientTransport(new URL(config.url), {
      requestInit: { headers: { ...config.headers, ...credentials.headers } },
      fetch: createCallHeaderFetch(),
    });
  };

  const fetchPages = async <T>(
    page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>,
  ): Promise<T[]> => {
    const items: T[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let count = 0; count < MAX_PAGES; count++) {
      const result = await page(cursor);
      items.push(...result.items);
      if (!result.nextCursor || seen.has(result.nextCursor)) return items;
      seen.add(result.nextCursor);
      cursor = result.nextCursor;
    }
    log(`upstream \`${name}\`: stopped listing after ${MAX_PAGES} pages`);
    return items;
  };

  const fetchList = async (
    client: Client,
    kind: UpstreamListKind,
  ): Promise<UpstreamLists[UpstreamListKind]> => {
    const requestOptions = { timeout: options.requestTimeoutMs };
    switch (kind) {
      case 'tools':
        return fetchPages(async (cursor) => {
          const result = await client.listTools(cursor ? { cursor } : {}, requestOptions);
          return { items: result.tools, nextCursor: result.nextCursor };
        });
      case 'resources':
        return fetchPages(async (cursor) => {
          const result = await client.listResources(cursor ? { cursor } : {}, requestOptions);
          return { items: result.resources, nextCursor: result.nextCursor };
        });
      case 'resourceTemplates':
        return fetchPages(async (cursor) => {
          const result = await client.listResourceTemplates(cursor ? { cursor } : {}, requestOptions);
          return { items: result.resourceTemplates, nextCursor: result.nextCursor };
        });
      case 'prompts':
        return fetchPages(async (cursor) => {
          const result = await client.listPrompts(cursor ? { cursor } : {}, requestOptions);
          return { items: result.prompts, nextCursor: result.nextCursor };
        });
    }
  };

  const advertises = (capabilities: ServerCapabilities, kind: UpstreamListKind): boolean =>
    kind === 'tools'
      ? capabilities.tools !== undefined
      : kind === 'prompts'
        ? capabilities.prompts !== undefined
        : capabilities.resources !== undefined;

  /** All four lists; tools must load (an upstream that cannot list its tools is not ready), the rest may fail. */
  const fetchLists = async (client: Client, redact: Redact): Promise<UpstreamLists> => {
    const capabilities = client.getServerCapabilities() ?? {};
    const load = async <K extends UpstreamListKind>(kind: K): Promise<UpstreamLists[K]> => {
      if (!advertises(capabilities, kind)) return [] as UpstreamLists[K];
      if (kind === 'tools') return (await fetchList(client, kind)) as UpstreamLists[K];
      try {
        return (await fetchList(client, kind)) as UpstreamLists[K];
      } catch (error) {
        log(`upstream \`${name}\`: listing ${kind} failed: ${describeFailure(error, redact)}`);
        return [] as UpstreamLists[K];
      }
    };
    const [tools, resources, resourceTemplates, prompts] = await Promise.all([
      load('tools'),
      load('resources'),
      load('resourceTemplates'),
      load('prompts'),
    ]);
    return { tools, resources, resourceTemplates, prompts };
  };

  /** Refreshes one list after a list_changed; notifications arriving meanwhile coalesce into one more pass. */
  const refresh = async (gen: number, kind: UpstreamListKind): Promise<void> => {
    // Keyed by connection too: a refresh still running for a connection that died must not swallow this one.
    const key = `${gen}:${kind}`;
    const running = refreshing.get(key);
    if (running) {
      running.again = true;
      return;
    }
    const marker = { again: true };
    refreshing.set(key, marker);
    try {
      while (marker.again && live?.generation === gen) {
        marker.again = false;
        const current = live;
        const items = await fetchList(current.client, kind);
        if (live?.generation !== gen) return;
        applyList(kind, items);
      }
    } catch (error) {
      if (live?.generation === gen) {
        log(`upstream \`${name}\`: refreshing ${kind} failed: ${describeFailure(error, live.redact)}`);
      }
    } finally {
      refreshing.delete(key);
    }
  };

  const onListChangedNotification = (gen: number, kind: UpstreamListKind) => {
    if (stale(gen)) return;
    // Servers announce resources and resource templates with the same notification.
    const kinds: UpstreamListKind[] = kind === 'resources' ? ['resources', 'resourceTemplates'] : [kind];
    for (const changed of kinds) {
      if (live?.generation === gen) void refresh(gen, changed);
      else missedChanges.add(changed);
    }
  };

  /** Ends a client (and its child process): stdin closes, then SIGTERM, then SIGKILL, `shutdownGraceMs` apart. */
  const dispose = async (client: Client, transport: Transport, terminateSession: boolean): Promise<void> => {
    // Null once the child exited: then there is nothing to signal (and its pid may already be reused).
    const running = pidOf(transport);
    if (terminateSession && transport instanceof StreamableHTTPClientTransport && transport.sessionId) {
      await Promise.race([transport.terminateSession().catch(() => {}), sleep(options.shutdownGraceMs)]);
    }
    const closing = client.close().catch(() => {});
    if (running !== null) {
      for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
        const exited = await Promise.race([
          closing.then(() => true),
          sleep(options.shutdownGraceMs).then(() => false),
        ]);
        if (exited) break;
        try {
          process.kill(running, signal);
        } catch {
          break; // already gone
        }
      }
    }
    await closing;
    if (transport instanceof TrackedStdioTransport && transport.spawnedPid !== null) {
      untrackChild(transport.spawnedPid);
    }
  };

  const stopHealthCheck = () => {
    if (healthTimer) clearInterval(healthTimer);
    healthTimer = undefined;
  };

  const startHealthCheck = (gen: number) => {
    stopHealthCheck();
    if (options.healthCheckIntervalMs <= 0) return;
    let pinging = false;
    healthTimer = setInterval(() => {
      const current = live;
      if (pinging || current?.generation !== gen) return;
      pinging = true;
      current.client
        .ping({ timeout: Math.min(options.healthCheckIntervalMs, options.requestTimeoutMs) })
        .catch((error: unknown) =>
          lost(gen, `health check failed: ${describeFailure(error, current.redact)}`),
        )
        .finally(() => {
          pinging = false;
        });
    }, options.healthCheckIntervalMs);
    healthTimer.unref();
  };

  const scheduleRetry = (reason: string) => {
    lastError = reason;
    connectedAt = null;
    stopHealthCheck();
    const delay = backoffDelay(failures, options.backoff);
    failures += 1;
    log(`upstream \`${name}\` down: ${reason}; retrying in ${delay} ms`);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (closed) return;
      restarts += 1;
      connecting = connect();
    }, delay);
    retryTimer.unref();
    state = 'down';
    options.onStatusChanged();
  };

  /** The live connection `gen` broke (process exit, transport failure, failed ping). */
  const lost = (gen: number, reason: string) => {
    if (closed || live?.generation !== gen) return;
    const old = live;
    live = undefined;
    if (connectedAt !== null && clock.now() - connectedAt >= options.stableAfterMs) failures = 0;
    void dispose(old.client, old.transport, false);
    scheduleRetry(reason);
  };

  const connect = async (): Promise<void> => {
    generation += 1;
    const gen = generation;
    missedChanges.clear();
    setState('connecting');
    let redact: Redact = (text) => text;
    let stderrTail: string | undefined;
    const withStderr = (reason: string) => (stderrTail ? `${reason} (stderr: ${stderrTail})` : reason);
    let opened: { client: Client; transport: Transport } | undefined;
    /** Ends this attempt's client unless close() already took it over from `pending`. */
    const abandon = () => {
      if (!opened || pending !== opened) return;
      pending = undefined;
      void dispose(opened.client, opened.transport, false);
    };
    try {
      const credentials = await resolveCredentials();
      if (stale(gen)) return;
      redact = createRedactor(secretsOf(credentials));
      const transport = createTransport(credentials, redact, (line) => {
        if (line.trim() !== '') stderrTail = line.slice(0, MAX_STDERR_TAIL);
      });
      const client = new Client(options.clientInfo, { capabilities: {} });
      opened = { client, transport };
      pending = opened;
      client.setNotificationHandler(ToolListChangedNotificationSchema, async () =>
        onListChangedNotification(gen, 'tools'),
      );
      client.setNotificationHandler(ResourceListChangedNotificationSchema, async () =>
        onListChangedNotification(gen, 'resources'),
      );
      client.setNotificationHandler(PromptListChangedNotificationSchema, async () =>
        onListChangedNotification(gen, 'prompts'),
      );
      const connectionRedact = redact;
      // While connecting, a transport error is also the one that fails the attempt: logged once, as the reason.
      client.onerror = (error) => {
        if (live?.generation === gen) {
          log(`upstream \`${name}\`: ${describeFailure(error, connectionRedact)}`);
        }
      };
      client.onclose = () =>
        lost(gen, withStderr(config.transport === 'stdio' ? 'process exited' : 'connection closed'));
      await client.connect(transport, { timeout: options.connectTimeoutMs });
      if (stale(gen)) return abandon();
      const fetched = await fetchLists(client, redact);
      if (stale(gen)) return abandon();
      pending = undefined;
      live = { generation: gen, client, transport, redact };
      connectedAt = clock.now();
      for (const kind of ['tools', 'resources', 'resourceTemplates', 'prompts'] as const) {
        applyList(kind, fetched[kind]);
      }
      startHealthCheck(gen);
      log(`upstream \`${name}\` ready: ${fetched.tools.length} tools`);
      setState('ready');
      for (const kind of missedChanges) void refresh(gen, kind);
      missedChanges.clear();
    } catch (error) {
      abandon();
      if (stale(gen)) return;
      scheduleRetry(withStderr(describeFailure(error, redact)));
    }
  };

  const awaitLive = async (subject: string, signal: AbortSignal, timeoutMs: number): Promise<Live> => {
    if (!closed && state === 'connecting' && connecting) {
      const outcome = await raceWithSignal(connecting, signal, timeoutMs);
      if (outcome === 'timeout') {
        throw new GatehouseError(
          'upstream_timeout',
          `${subject} timed out after ${timeoutMs} ms waiting for upstream \`${name}\` to connect`,
          {
            details: { upstream: name, timeoutMs },
            expose: true,
          },
        );
      }
    }
    if (live && state === 'ready') return live;
    throw upstreamUnavailable(name, closed ? 'closed' : state);
  };

  return {
    name,
    transport: config.transport,

    async start() {
      if (connecting || closed) return connecting;
      connecting = connect();
      return connecting;
    },

    async close() {
      if (closed) return;
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      stopHealthCheck();
      const ending: Promise<void>[] = [];
      if (live) ending.push(dispose(live.client, live.transport, true));
      if (pending) ending.push(dispose(pending.client, pending.transport, false));
      live = undefined;
      pending = undefined;
      connectedAt = null;
      state = 'down';
      options.onStatusChanged();
      await Promise.all(ending);
      await connecting;
    },

    status() {
      return {
        name,
        transport: config.transport,
        state,
        lastError,
        restarts,
        tools: lists?.tools.length ?? 0,
        resources: lists?.resources.length ?? 0,
        prompts: lists?.prompts.length ?? 0,
        connectedAt: state === 'ready' ? connectedAt : null,
        pid: pidOf(live?.transport ?? pending?.transport),
      };
    },

    lists: () => lists,

    async request(subject, callOptions, send) {
      const timeoutMs = callOptions.timeoutMs ?? config.timeout ?? options.requestTimeoutMs;
      const started = Date.now();
      // A signal of our own, linked to the caller's: the SDK never removes its abort listener, so a long-lived
      // caller signal would collect one per request.
      const controller = new AbortController();
      const callerSignal = callOptions.signal;
      const forward = () => controller.abort(callerSignal?.reason);
      if (callerSignal?.aborted) forward();
      else callerSignal?.addEventListener('abort', forward, { once: true });
      let current: Live | undefined;
      try {
        controller.signal.throwIfAborted();
        current = await awaitLive(subject, controller.signal, timeoutMs);
        const remaining = Math.max(1, timeoutMs - (Date.now() - started));
        const requestOptions: RequestOptions = {
          signal: controller.signal,
          timeout: remaining,
          ...(callOptions.onProgress ? { onprogress: callOptions.onProgress } : {}),
        };
        const client = current.client;
        return await withCallHeaders(config.transport === 'http' ? callOptions.headers : undefined, () =>
          send(client, requestOptions),
        );
      } catch (error) {
        const redact = current?.redact ?? ((text: string) => text);
        if (current && !callerSignal?.aborted && isConnectionFailure(error)) {
          lost(current.generation, describeFailure(error, redact));
        }
        throw toUpstreamError(error, { upstream: name, subject, timeoutMs, signal: callerSignal, redact });
      } finally {
        callerSignal?.removeEventListener('abort', forward);
      }
    },
  };
}

const sleep = (ms: number) =>
  new Promise<void>((resolveSleep) => {
    setTimeout(resolveSleep, ms).unref();
  });

/** Waits for `promise`, unless `signal` aborts first (rethrows its reason) or `timeoutMs` passes. */
async function raceWithSignal(
  promise: Promise<unknown>,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<'settled' | 'timeout'> {
  signal.throwIfAborted();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise.then(() => 'settled' as const),
      new Promise<'timeout'>((resolveRace, reject) => {
        onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        timer = setTimeout(() => resolveRace('timeout'), timeoutMs);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
