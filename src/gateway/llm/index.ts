export { authenticateLlmAgent } from './agent-credential.js';
export {
  type BudgetStatus,
  type BudgetWindow,
  budgetStatuses,
  budgetWindow,
  enforceBudgets,
  type LlmBudgets,
} from './budgets.js';
export { LLM_REQUEST_ID_HEADER, type LlmGateway, llmGatewayOf, registerLlmGateway } from './llm-endpoint.js';
export {
  LLM_OPERATIONS,
  type LlmOperation,
  type LlmProviderConfig,
  llmToolName,
  type ProviderKind,
} from './operations.js';
export { type ShapedRequest, shapeRequest } from './request-shape.js';
export { createUsageMeter, type MeteredUsage, type UsageMeter } from './usage-meter.js';
export { buildUsageReport, type UsageReport, type UsageReportQuery, type UsageRow } from './usage-report.js';
export { streamErrorEvent, toWireError, type WireError } from './wire-errors.js';
