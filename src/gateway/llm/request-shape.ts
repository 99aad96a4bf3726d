import { GatehouseError } from '../../errors/index.js';
import type { LlmOperation } from './operations.js';

const MAX_MODEL_LENGTH = 256;
const MAX_TOOLS = 1024;

/** What the gateway read from an agent's request: what it decides on, meters, and forwards. */
export interface ShapedRequest {
  /** The model asked for; null for operations without one (`models`). */
  model: string | null;
  stream: boolean;
  /**
   * The decision's arguments: `tools` (names offered, `[]` when none) and `stream` always; `model` unless the
   * operation has none (`models`); `max_tokens` when the request sets a limit.
   */
  args: Record<string, unknown>;
  /** The parsed body, for the audit when `llm.storeBodies` is on. */
  body: Record<string, unknown> | null;
  /**
   * The bytes sent to the provider: the parsed body serialized again, so the provider reads exactly what was
   * decided (duplicate keys or odd encodings in the agent's bytes cannot show the policy one model and the
   * provider another).
   */
  forward: Buffer | null;
}

/**
 * Checks the fields the gateway decides on and meters by, and derives the decision's arguments. Everything else
 * in the body is the provider's to validate. Streaming chat completions get `stream_options.include_usage` so
 * the final chunk carries the usage that metering needs.
 */
export function shapeRequest(operation: LlmOperation, body: unknown): ShapedRequest {
  // Every operation has `tools` and `stream`, so one condition can cover `llm.*`.
  if (operation === 'models') {
    return { model: null, stream: false, args: { tools: [], stream: false }, body: null, forward: null };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('the request body must be a JSON object');
  }
  const fields = body as Record<string, unknown>;
  const model = fields.model;
  if (typeof model !== 'string' || model.length === 0 || model.length > MAX_MODEL_LENGTH) {
    throw invalid('`model` must be a non-empty string');
  }
  if (operation === 'embeddings') {
    return {
      model,
      stream: false,
      args: { model, tools: [], stream: false },
      body: fields,
      forward: serialize(fields),
    };
  }
  const stream = fields.stream ?? false;
  if (typeof stream !== 'boolean') throw invalid('`stream` must be a boolean');
  const maxTokens = maxTokensOf(operation, fields);
  const tools = toolNamesOf(fields.tools);
  const args: Record<string, unknown> = { model, stream, tools };
  if (maxTokens !== undefined) args.max_tokens = maxTokens;

  let forwarded = fields;
  if (operation === 'chat_completions' && stream) {
    const options = fields.stream_options ?? {};
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw invalid('`stream_options` must be an object');
    }
    if ((options as Record<string, unknown>).include_usage !== true) {
      forwarded = { ...fields, stream_options: { ...options, include_usage: true } };
    }
  }
  return { model, stream, args, body: fields, forward: serialize(forwarded) };
}

/**
 * The most the response may produce, under the name each API gives it. Chat completions accept both
 * `max_completion_tokens` and the older `max_tokens`: the larger decides, so a cap cannot be slipped past.
 */
function maxTokensOf(operation: LlmOperation, fields: Record<string, unknown>): number | undefined {
  const names =
    operation === 'chat_completions'
      ? ['max_completion_tokens', 'max_tokens']
      : operation === 'responses'
        ? ['max_output_tokens']
        : ['max_tokens'];
  let max: number | undefined;
  for (const name of names) {
    const value = fields[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw invalid(`\`${name}\` must be a non-negative integer`);
    }
    max = max === undefined ? value : Math.max(max, value);
  }
  return max;
}

/** The names of the tools offered: function names, or the type of built-in tools (`web_search`). */
function toolNamesOf(tools: unknown): string[] {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools) || tools.length > MAX_TOOLS) {
    throw invalid(`\`tools\` must be an array of at most ${MAX_TOOLS} tools`);
  }
  return tools.map((tool, index) => {
    if (typeof tool !== 'object' || tool === null) throw invalid(`\`tools[${index}]\` must be an object`);
    const entry = tool as { name?: unknown; type?: unknown; function?: { name?: unknown } | null };
    const name = entry.function?.name ?? entry.name ?? entry.type;
    if (typeof name !== 'string' || name.length === 0) {
      throw invalid(`\`tools[${index}]\` has no name or type`);
    }
    return name;
  });
}

function serialize(body: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(body), 'utf8');
}

function invalid(message: string): GatehouseError {
  return new GatehouseError('invalid_request', message);
}
