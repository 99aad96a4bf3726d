import type { Progress, Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { UpstreamConfig } from '../../config/index.js';

export type UpstreamState = 'connecting' | 'ready' | 'down';

/** The lists an upstream publishes; cached per upstream, refreshed on (re)connect and on `list_changed`. */
export type UpstreamListKind = 'tools' | 'resources' | 'resourceTemplates' | 'prompts';

/** Credentials injected at each (re)connect: environment for a spawned process, headers for an HTTP upstream. */
export interface UpstreamCredentials {
  env?: Record<string, string>;
  headers?: Record<string, string>;
}

/** Resolves an upstream's credentials (from the vault) each time it (re)connects, so rotations take effect. */
export type ResolveUpstreamCredentials = (upstream: UpstreamConfig) => Promise<UpstreamCredentials>;

/** One upstream as operators see it. Never holds secret values: `lastError` is redacted. */
export interface UpstreamStatus {
  name: string;
  transport: 'stdio' | 'http';
  state: UpstreamState;
  /** The last failure (connect, crash, health check), kept after a recovery; null if none yet. */
  lastError: string | null;
  /** Connection attempts after the first one. */
  restarts: number;
  tools: number;
  resources: number;
  prompts: number;
  /** When the current connection became ready (clock milliseconds); null unless ready. */
  connectedAt: number | null;
  /** The process id of a stdio upstream while it runs. */
  pid: number | null;
}

/** One upstream tool as agents see it: namespaced `<upstream>.<tool>`, with the upstream's own definition. */
export interface UpstreamTool {
  upstream: string;
  /** `<upstream>.<tool>`. */
  name: string;
  /** The upstream's tool as it declared it, original name included. */
  tool: Tool;
}

/** A resource, with its URI unchanged, tagged with the upstream that serves it. */
export interface UpstreamResource {
  upstream: string;
  resource: Resource;
}

export interface UpstreamResourceTemplate {
  upstream: string;
  resourceTemplate: ResourceTemplate;
}

/** A prompt, namespaced `<upstream>.<prompt>` like tools. */
export interface UpstreamPrompt {
  upstream: string;
  /** `<upstream>.<prompt>`. */
  name: string;
  /** The upstream's prompt as it declared it, original name included. */
  prompt: Prompt;
}

/** Per-request controls for anything forwarded to an upstream. */
export interface UpstreamCallOptions {
  /** Aborting cancels the request: the upstream gets `notifications/cancelled`. */
  signal?: AbortSignal;
  /** Overrides the upstream's `timeout` and the pool default; includes any wait for a reconnect in progress. */
  timeoutMs?: number;
  /** Receives the upstream's `notifications/progress` for this request. */
  onProgress?: (progress: Progress) => void;
  /** Goes into the request's `params._meta` (all transports). */
  meta?: Record<string, unknown>;
  /** Extra HTTP headers for this request only (HTTP upstreams; ignored for stdio). Never replace configured ones. */
  headers?: Record<string, string>;
}

/** A change in one of an upstream's lists. */
export interface UpstreamListChange {
  upstream: string;
  kind: UpstreamListKind;
}
