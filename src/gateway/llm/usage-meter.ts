import type { LlmOperation } from './operations.js';

/** Tokens of one request as far as the provider reported them. */
export interface MeteredUsage {
  inputTokens: number;
  outputTokens: number;
  /** The provider reported usage (false: counts are zero, or estimated from stream chunks). */
  reported: boolean;
  /** Output counted from stream chunks (about one token each) because the stream ended before its usage. */
  estimated: boolean;
}

export interface UsageMeter {
  /** Complete server-sent events, in order, as forwarded to the agent. */
  events(text: string): void;
  /** A whole JSON response body. */
  json(text: string): void;
  /** The stream reached its proper end (`[DONE]`, `message_stop`, a final response event, or an error event). */
  readonly finished: boolean;
  usage(): MeteredUsage;
}

const TERMINAL_EVENTS = new Set([
  'message_stop',
  'response.completed',
  'response.incomplete',
  'response.failed',
  'error',
]);

/**
 * Reads token usage from provider responses: `usage` of OpenAI chat completions and embeddings
 * (`prompt_tokens`, `completion_tokens`), of the Responses API and Anthropic (`input_tokens`, `output_tokens`,
 * Anthropic's cache reads and writes counted as input), including streams: OpenAI's final chunk, the Responses
 * API's `response.completed`, Anthropic's `message_start` and cumulative `message_delta`. Only events that
 * mention usage are parsed.
 */
export function createUsageMeter(operation: LlmOperation): UsageMeter {
  let input: number | undefined;
  let output: number | undefined;
  let chunks = 0;
  let finished = false;

  const take = (usage: unknown) => {
    if (typeof usage !== 'object' || usage === null) return;
    const fields = usage as Record<string, unknown>;
    const count = (name: string) => (typeof fields[name] === 'number' ? (fields[name] as number) : undefined);
    const base = count('prompt_tokens') ?? count('input_tokens');
    if (base !== undefined) {
      input = base + (count('cache_creation_input_tokens') ?? 0) + (count('cache_read_input_tokens') ?? 0);
    }
    const produced = count('completion_tokens') ?? count('output_tokens');
    if (produced !== undefined) output = produced;
    else if (base !== undefined && output === undefined && operation === 'embeddings') output = 0;
  };

  const event = (name: string | undefined, data: string) => {
    if (data === '[DONE]') {
      finished = true;
      return;
    }
    if (name !== undefined && TERMINAL_EVENTS.has(name)) finished = true;
    chunks += 1;
    if (!data.includes('"usage"') && !data.includes('"error"')) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof parsed !== 'object' || parsed === null) return;
    const fields = parsed as Record<string, unknown>;
    // A provider's own mid-stream error ends the stream as far as the SDK is concerned.
    if (fields.error !== undefined && fields.error !== null) finished = true;
    if (typeof fields.type === 'string' && TERMINAL_EVENTS.has(fields.type)) finished = true;
    take(fields.usage);
    take((fields.message as Record<string, unknown> | undefined)?.usage);
    take((fields.response as Record<string, unknown> | undefined)?.usage);
  };

  return {
    events(text) {
      for (const block of text.split(/\r?\n\r?\n/)) {
        if (block === '') continue;
        let name: string | undefined;
        let data: string | undefined;
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith('data:')) {
            const value = line.slice(line.charCodeAt(5) === 32 ? 6 : 5);
            data = data === undefined ? value : `${data}\n${value}`;
          } else if (line.startsWith('event:')) {
            name = line.slice(6).trim();
          }
        }
        if (data !== undefined) event(name, data);
      }
    },
    json(text) {
      if (!text.includes('"usage"')) return;
      try {
        take((JSON.parse(text) as { usage?: unknown }).usage);
      } catch {
        // Not JSON after all (or cut short): the usage stays unknown.
      }
    },
    get finished() {
      return finished;
    },
    usage() {
      const reported = input !== undefined || output !== undefined;
      const estimated = !reported && operation === 'chat_completions' && chunks > 0;
      return {
        inputTokens: input ?? 0,
        outputTokens: output ?? (estimated ? chunks : 0),
        reported,
        estimated,
      };
    },
  };
}
