import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the stand-in received, headers included, to prove what the gateway sent (and did not). */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface StandInProvider {
  /** `http://127.0.0.1:<port>`; the OpenAI API root is `${url}/openai/v1`, Anthropic's `${url}/anthropic/v1`. */
  url: string;
  openaiBaseUrl: string;
  anthropicBaseUrl: string;
  openaiKey: string;
  anthropicKey: string;
  received: ReceivedRequest[];
  /** The usage the stand-in reported, per response, in order. */
  reported: Array<{ model: string; input: number; output: number }>;
  close(): Promise<void>;
}

export interface StandInOptions {
  /** How long `*-slow` models wait before answering. */
  slowMs?: number;
  /** Pause between streamed events. */
  eventDelayMs?: number;
  /** Reply text (its words are its tokens). */
  reply?: string;
}

type Kind = 'openai' | 'anthropic';

/**
 * A local provider speaking the real OpenAI and Anthropic wire formats: chat completions, responses, embeddings
 * and models; Anthropic messages and models; each non-streaming and streaming (server-sent events with usage:
 * OpenAI's final usage chunk with `stream_options.include_usage`, Anthropic's `message_start`/`message_delta`),
 * and each provider's error bodies. It checks the provider key as the real ones do. The model name picks a
 * misbehaviour: `*-slow` answers late, `*-cut` breaks the connection mid-response, `*-stall` stops
 * mid-stream for as long as `*-slow` waits, `*-error` answers 400,
 * `*-echo-key` answers 401 quoting the key it got, `*-overloaded` answers 529 (Anthropic) or 503 (OpenAI).
 * Tokens are words: deterministic, and reported back in `reported`.
 */
export async function startStandInProvider(options: StandInOptions = {}): Promise<StandInProvider> {
  const openaiKey = `sk-standin-${randomBytes(16).toString('hex')}`;
  const anthropicKey = `sk-ant-standin-${randomBytes(16).toString('hex')}`;
  const received: ReceivedRequest[] = [];
  const reported: StandInProvider['reported'] = [];
  const replyText = options.reply ?? 'Hello from the stand-in provider, one word per token.';
  const sockets = new Set<import('node:net').Socket>();

  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500).end(String(error));
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const url = new URL(request.url ?? '/', 'http://stand-in');
    received.push({ method: request.method ?? '', path: url.pathname, headers: request.headers, body });
    const kind: Kind = url.pathname.startsWith('/anthropic/') ? 'anthropic' : 'openai';
    const route = url.pathname.replace(/^\/(openai|anthropic)\/v1\//, '');

    const given = kind === 'openai' ? request.headers.authorization : request.headers['x-api-key'];
    const expected = kind === 'openai' ? `Bearer ${openaiKey}` : anthropicKey;
    const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const model = typeof fields.model === 'string' ? fields.model : '';
    if (model.endsWith('-echo-key')) {
      return sendError(response, kind, 401, `Incorrect API key provided: ${String(given)}`);
    }
    if (given !== expected) return sendError(response, kind, 401, 'invalid x-api-key / bearer key');
    if (kind === 'anthropic' && !request.headers['anthropic-version']) {
      return sendError(response, kind, 400, 'anthropic-version header is required');
    }
    if (model.endsWith('-slow')) await sleep(options.slowMs ?? 2000);
    if (model.endsWith('-error')) return sendError(response, kind, 400, `model \`${model}\` is refused`);
    if (model.endsWith('-overloaded')) {
      return sendError(response, kind, kind === 'anthropic' ? 529 : 503, 'overloaded');
    }
    const cut = model.endsWith('-cut');
    const stall = model.endsWith('-stall');

    if (request.method === 'GET' && route === 'models') return sendModels(response, kind);
    if (request.method !== 'POST') return sendError(response, kind, 404, 'not found');
    if (kind === 'openai' && route === 'chat/completions') return chat(response, fields, model, cut, stall);
    if (kind === 'openai' && route === 'responses') return responses(response, fields, model, cut);
    if (kind === 'openai' && route === 'embeddings') return embeddings(response, fields, model);
    if (kind === 'anthropic' && route === 'messages') return messages(response, fields, model, cut);
    return sendError(response, kind, 404, `unknown route ${route}`);
  }

  const words = (maxTokens: unknown) => {
    const all = replyText.split(' ');
    return typeof maxTokens === 'number' && maxTokens < all.length ? all.slice(0, maxTokens) : all;
  };

  async function chat(
    response: ServerResponse,
    fields: Record<string, unknown>,
    model: string,
    cut: boolean,
    stall = false,
  ) {
    const input = countTokens(fields.messages);
    const out = words(fields.max_completion_tokens ?? fields.max_tokens);
    const finish = out.length < replyText.split(' ').length ? 'length' : 'stop';
    const id = `chatcmpl-${randomBytes(6).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = { prompt_tokens: input, completion_tokens: out.length, total_tokens: input + out.length };
    if (!fields.stream) {
      reported.push({ model, input, output: out.length });
      return sendJson(
        response,
        {
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: out.join(' '), refusal: null, annotations: [] },
              logprobs: null,
              finish_reason: finish,
            },
          ],
          usage,
          service_tier: 'default',
          system_fingerprint: 'fp_standin',
        },
        cut,
      );
    }
    const chunk = (delta: Record<string, unknown>, finishReason: string | null) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: 'fp_standin',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });
    startStream(response);
    await event(response, null, chunk({ role: 'assistant', content: '', refusal: null }, null));
    for (const [index, word] of out.entries()) {
      if (cut && index === 3) return breakOff(response, 'data: {"id":"chatcmpl-half');
      if (stall && index === 3) await sleep(options.slowMs ?? 2000);
      if (response.destroyed) return;
      await event(response, null, chunk({ content: index === 0 ? word : ` ${word}` }, null));
    }
    await event(response, null, chunk({}, finish));
    const streamOptions = fields.stream_options as { include_usage?: boolean } | undefined;
    if (streamOptions?.include_usage) {
      reported.push({ model, input, output: out.length });
      await event(response, null, {
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [],
        usage,
      });
    }
    response.end('data: [DONE]\n\n');
  }

  async function responses(
    response: ServerResponse,
    fields: Record<string, unknown>,
    model: string,
    cut: boolean,
  ) {
    const input = countTokens(fields.input) + countTokens(fields.instructions);
    const out = words(fields.max_output_tokens);
    const id = `resp_${randomBytes(6).toString('hex')}`;
    const itemId = `msg_${randomBytes(6).toString('hex')}`;
    const base = {
      id,
      object: 'response',
      created_at: Math.floor(Date.now() / 1000),
      model,
      instructions: fields.instructions ?? null,
      parallel_tool_calls: true,
      tool_choice: 'auto',
      tools: [],
      error: null,
      incomplete_details: null,
      metadata: {},
      temperature: 1,
      top_p: 1,
    };
    const message = {
      type: 'message',
      id: itemId,
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: out.join(' '), annotations: [] }],
    };
    const usage = {
      input_tokens: input,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: out.length,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: input + out.length,
    };
    const completed = { ...base, status: 'completed', output: [message], usage };
    if (!fields.stream) {
      reported.push({ model, input, output: out.length });
      return sendJson(response, completed, cut);
    }
    startStream(response);
    let sequence = 0;
    const send = (type: string, data: Record<string, unknown>) =>
      event(response, type, { type, sequence_number: sequence++, ...data });
    await send('response.created', { response: { ...base, status: 'in_progress', output: [], usage: null } });
    for (const [index, word] of out.entries()) {
      if (cut && index === 3) return breakOff(response, 'event: response.output_text.delta\ndata: {"ty');
      await send('response.output_text.delta', {
        item_id: itemId,
        output_index: 0,
        content_index: 0,
        delta: index === 0 ? word : ` ${word}`,
      });
    }
    reported.push({ model, input, output: out.length });
    await send('response.completed', { response: completed });
    response.end();
  }

  function embeddings(response: ServerResponse, fields: Record<string, unknown>, model: string) {
    const inputs = Array.isArray(fields.input) ? fields.input : [fields.input];
    const input = countTokens(inputs);
    reported.push({ model, input, output: 0 });
    const vector = [0.125, -0.25, 0.5, 1, 0, 0.75, -1, 0.0625];
    const data = inputs.map((_, index) => ({
      object: 'embedding',
      index,
      embedding:
        fields.encoding_format === 'base64'
          ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
          : vector,
    }));
    return sendJson(
      response,
      { object: 'list', data, model, usage: { prompt_tokens: input, total_tokens: input } },
      false,
    );
  }

  async function messages(
    response: ServerResponse,
    fields: Record<string, unknown>,
    model: string,
    cut: boolean,
  ) {
    const input = countTokens(fields.messages) + countTokens(fields.system);
    const out = words(fields.max_tokens);
    const stop = out.length < replyText.split(' ').length ? 'max_tokens' : 'end_turn';
    const id = `msg_${randomBytes(6).toString('hex')}`;
    if (!fields.stream) {
      reported.push({ model, input, output: out.length });
      return sendJson(
        response,
        {
          id,
          type: 'message',
          role: 'assistant',
          model,
          content: [{ type: 'text', text: out.join(' ') }],
          stop_reason: stop,
          stop_sequence: null,
          usage: { input_tokens: input, output_tokens: out.length },
        },
        cut,
      );
    }
    startStream(response);
    await event(response, 'message_start', {
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: input, output_tokens: 1 },
      },
    });
    await event(response, 'content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
    await event(response, 'ping', { type: 'ping' });
    for (const [index, word] of out.entries()) {
      if (cut && index === 3) {
        return breakOff(response, 'event: content_block_delta\ndata: {"type":"content_blo');
      }
      await event(response, 'content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: index === 0 ? word : ` ${word}` },
      });
    }
    await event(response, 'content_block_stop', { type: 'content_block_stop', index: 0 });
    reported.push({ model, input, output: out.length });
    await event(response, 'message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stop, stop_sequence: null },
      usage: { output_tokens: out.length },
    });
    await event(response, 'message_stop', { type: 'message_stop' });
    response.end();
  }

  function sendModels(response: ServerResponse, kind: Kind) {
    if (kind === 'anthropic') {
      return sendJson(
        response,
        {
          data: [
            {
              type: 'model',
              id: 'claude-test',
              display_name: 'Claude Test',
              created_at: '2026-01-01T00:00:00Z',
            },
          ],
          has_more: false,
          first_id: 'claude-test',
          last_id: 'claude-test',
        },
        false,
      );
    }
    return sendJson(
      response,
      {
        object: 'list',
        data: [
          { id: 'gpt-test', object: 'model', created: 1767225600, owned_by: 'stand-in' },
          { id: 'text-embedding-test', object: 'model', created: 1767225600, owned_by: 'stand-in' },
        ],
      },
      false,
    );
  }

  async function event(response: ServerResponse, name: string | null, data: unknown) {
    if (options.eventDelayMs) await sleep(options.eventDelayMs);
    response.write(`${name ? `event: ${name}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    openaiBaseUrl: `${url}/openai/v1`,
    anthropicBaseUrl: `${url}/anthropic/v1`,
    openaiKey,
    anthropicKey,
    received,
    reported,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function startStream(response: ServerResponse) {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': `req_${randomBytes(6).toString('hex')}`,
  });
  response.flushHeaders();
}

/** Writes half an event, then drops the connection, as a provider crashing mid-stream does. */
function breakOff(response: ServerResponse, half: string) {
  response.write(half);
  setTimeout(() => response.socket?.destroy(), 20);
}

function sendJson(response: ServerResponse, body: unknown, cut: boolean) {
  const text = JSON.stringify(body);
  response.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': `req_${randomBytes(6).toString('hex')}`,
    'set-cookie': '__cf_bm=standin; path=/; HttpOnly',
  });
  if (cut) {
    response.write(text.slice(0, Math.floor(text.length / 2)));
    setTimeout(() => response.socket?.destroy(), 20);
    return;
  }
  response.end(text);
}

function sendError(response: ServerResponse, kind: Kind, status: number, message: string) {
  const types: Record<number, string> = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    404: 'not_found_error',
    503: 'server_error',
    529: 'overloaded_error',
  };
  const body =
    kind === 'anthropic'
      ? { type: 'error', error: { type: types[status] ?? 'api_error', message } }
      : {
          error: {
            message,
            type: status === 401 ? 'invalid_request_error' : (types[status] ?? 'server_error'),
            param: null,
            code: status === 401 ? 'invalid_api_key' : null,
          },
        };
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    // Tests assert behaviour, not SDK retry back-off.
    'x-should-retry': 'false',
  });
  response.end(text);
}

/** Words in every string inside `value` (message contents, system prompts, inputs). */
function countTokens(value: unknown): number {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean).length;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + countTokens(item), 0);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value as Record<string, unknown>)
      .filter(([key]) => key === 'content' || key === 'text' || key === 'input')
      .reduce((sum, [, item]) => sum + countTokens(item), 0);
  }
  return 0;
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
