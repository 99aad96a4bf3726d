import type { GatehouseConfig } from '../../config/index.js';

export type LlmProviderConfig = GatehouseConfig['llm']['providers'][number];
export type ProviderKind = LlmProviderConfig['kind'];

/** The operations the gateway passes through; each is decided as the tool `llm.<provider>.<operation>`. */
export type LlmOperation = 'chat_completions' | 'responses' | 'embeddings' | 'models' | 'messages';

export interface OperationSpec {
  operation: LlmOperation;
  method: 'GET' | 'POST';
  /** The path under the provider's API root (`baseUrl`) and under `/llm/<provider>/v1/`. */
  path: string;
  /** The wire formats that have it. */
  kinds: readonly ProviderKind[];
}

export const LLM_OPERATIONS: readonly OperationSpec[] = [
  { operation: 'chat_completions', method: 'POST', path: 'chat/completions', kinds: ['openai'] },
  { operation: 'responses', method: 'POST', path: 'responses', kinds: ['openai'] },
  { operation: 'embeddings', method: 'POST', path: 'embeddings', kinds: ['openai'] },
  { operation: 'models', method: 'GET', path: 'models', kinds: ['openai', 'anthropic'] },
  { operation: 'messages', method: 'POST', path: 'messages', kinds: ['anthropic'] },
];

/** The policy's name for one operation on one provider, e.g. `llm.openai.chat_completions`. */
export function llmToolName(provider: string, operation: LlmOperation): string {
  return `llm.${provider}.${operation}`;
}

/**
 * The wire format to answer in when the provider is unknown: Anthropic's for its `messages` path, OpenAI's
 * (the lingua franca of compatible clients) otherwise.
 */
export function guessKind(url: string): ProviderKind {
  return /\/messages(?:[/?]|$)/.test(url) ? 'anthropic' : 'openai';
}
