/** Tool pinning as the domain sees it. Times are milliseconds since the epoch; hashes are SHA-256, hex. */

/** What is pinned of an upstream tool: what the model reads when it chooses and calls the tool. */
export interface ToolDefinition {
  /** The namespaced name agents see, `<upstream>.<tool>`. */
  name: string;
  description: string | null;
  inputSchema: unknown;
}

/** A live upstream tool with its definition, the definition's canonical JSON (RFC 8785) and its hash. */
export interface HashedTool {
  /** `<upstream>.<tool>`. */
  tool: string;
  upstream: string;
  definition: ToolDefinition;
  canonical: string;
  hash: string;
}

/** A reviewed definition of one tool, for one agent. */
export interface ToolPin {
  agentId: string;
  tool: string;
  upstream: string;
  hash: string;
  /** Canonical JSON of the pinned definition: what the reviewer saw, kept for the diff. */
  definition: string;
  pinnedAt: number;
  /** The actor who reviewed it (`user:…`, `admin-token:…`, `cli:…`). */
  pinnedBy: string;
}

/**
 * Pinning applies to an agent once it has a baseline: its first approval sets one, and it stays through later
 * manifest versions, so pushing a new manifest never lifts the pins.
 */
export interface PinBaseline {
  agentId: string;
  /** The manifest version whose approval last recorded pins. */
  manifestVersion: number | null;
  establishedAt: number;
  establishedBy: string;
  updatedAt: number;
}

/** A tool as a gateway last saw it on its upstream: what reviews pin and `tools pending` compares. */
export interface ObservedTool {
  tool: string;
  upstream: string;
  hash: string;
  definition: string;
  firstSeenAt: number;
  /** When this definition (this hash) was first seen. */
  changedAt: number;
}

export type HoldKind = 'changed' | 'new';

/** A tool definition held for an agent: recorded once per (agent, tool, hash), with its audit entry. */
export interface ToolHold {
  agentId: string;
  tool: string;
  upstream: string;
  hash: string;
  kind: HoldKind;
  /** The hash the agent has pinned for this tool; null for a new tool. */
  pinnedHash: string | null;
  definition: string;
  heldAt: number;
}

/** A pinned tool whose definition changed upstream. */
export interface ToolChange {
  tool: string;
  old: ToolPin;
  new: HashedTool;
}

/** The outcome of comparing live tools with an agent's pins. */
export interface PinComparison {
  /** Tools whose definition matches the agent's pin. */
  visible: HashedTool[];
  /** Pinned tools whose definition changed: held until a reviewer accepts the change. */
  changed: ToolChange[];
  /** Tools the agent has no pin for: held until reviewed. */
  new: HashedTool[];
}

/** A unified diff of each part of a definition that changed; null for a part that did not. */
export interface DefinitionDiff {
  description: string | null;
  inputSchema: string | null;
}

export type FindingSeverity = 'high' | 'medium' | 'low';

export type FindingRule =
  | 'invisible_character'
  | 'bidi_control'
  | 'instruction_override'
  | 'model_directive'
  | 'concealment'
  | 'sensitive_data_request'
  | 'sensitive_path'
  | 'hidden_markup'
  | 'whitespace_padding';

/** Text in a tool definition that looks aimed at the model rather than at describing the tool. */
export interface ScanFinding {
  tool: string;
  rule: FindingRule;
  severity: FindingSeverity;
  /** Where in the definition: `description`, or a path into the input schema (`inputSchema.properties.q.description`). */
  field: string;
  /** The matching text with some context, invisible and control characters spelled out as `<U+200B>`. */
  excerpt: string;
  message: string;
}
