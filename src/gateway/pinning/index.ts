export { type AcceptedTool, type AcceptToolsInput, acceptTools } from './accept-tools.js';
export { compareToPins, pinsByTool } from './compare-to-pins.js';
export { diffDefinitions } from './diff-definitions.js';
export { listPendingTools, type PendingTool, pinnedAgents } from './list-pending-tools.js';
export { pinToolsAtReview } from './pin-at-review.js';
export {
  type AgentToolScan,
  type ScannedTool,
  type ScannedToolStatus,
  scanAgentTools,
} from './scan-agent-tools.js';
export { scanDefinition, worstSeverity } from './scan-definition.js';
export { hashDefinition, toolDefinitionOf } from './tool-definition.js';
export {
  type HeldTool,
  PIN_CACHE_MS,
  type PinningCaller,
  type PinningDeps,
  type ToolPinning,
  toolPinningOf,
} from './tool-pinning.js';
export type {
  DefinitionDiff,
  FindingRule,
  FindingSeverity,
  HashedTool,
  HoldKind,
  ObservedTool,
  PinBaseline,
  PinComparison,
  ScanFinding,
  ToolChange,
  ToolDefinition,
  ToolHold,
  ToolPin,
} from './types.js';
export { visibleText } from './visible-text.js';
