import type { UpstreamCallOptions, UpstreamPool } from '../upstreams/index.js';

/** What the gateway needs from the upstream pool (tests may pass anything of this shape). */
export type UpstreamPort = Pick<
  UpstreamPool,
  | 'listTools'
  | 'callTool'
  | 'listResources'
  | 'readResource'
  | 'listPrompts'
  | 'getPrompt'
  | 'transportOf'
  | 'onToolsChanged'
>;

export type ForwardOptions = UpstreamCallOptions;
export type { UpstreamTool } from '../upstreams/index.js';
