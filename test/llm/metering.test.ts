import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { budgetWindow, createUsageMeter, enforceBudgets, shapeRequest } from '../../src/gateway/llm/index.js';
import type { LlmUsageRecord, Store } from '../../src/store/index.js';
import { openTestStore, STORE_DRIVERS, type TestStore } from '../support/stores.js';

const sse = (events: Array<[string | null, unknown]>) =>
  events
    .map(
      ([name, data]) =>
        `${name ? `event: ${name}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`,
    )
    .join('');

describe('usage meter', () => {
  it('reads OpenAI chat usage from the final streamed chunk and sees [DONE]', () => {
    const meter = createUsageMeter('chat_completions');
    meter.events(sse([[null, { choices: [{ delta: { content: 'hi' } }] }]]));
    expect(meter.finished).toBe(false);
    meter.events(
      sse([
        [null, { choices: [], usage: { prompt_tokens: 12, completion_tokens: 3 } }],
        [null, '[DONE]'],
      ]),
    );
    expect(meter.finished).toBe(true);
    expect(meter.usage()).toEqual({ inputTokens: 12, outputTokens: 3, reported: true, estimated: false });
  });

  it('estimates output from chunks when a chat stream ends before its usage', () => {
    const meter = createUsageMeter('chat_completions');
    meter.events(
      sse([
        [null, { choices: [{ delta: { content: 'a' } }] }],
        [null, { choices: [{ delta: { content: 'b' } }] }],
      ]),
    );
    expect(meter.usage()).toEqual({ inputTokens: 0, outputTokens: 2, reported: false, estimated: true });
  });

  it("adds Anthropic's cache tokens to the input and takes message_delta's cumulative output", () => {
    const meter = createUsageMeter('messages');
    meter.events(
      sse([
        [
          'message_start',
          {
            type: 'message_start',
            message: {
              usage: {
                input_tokens: 10,
                cache_read_input_tokens: 100,
                cache_creation_input_tokens: 5,
                output_tokens: 1,
              },
            },
          },
        ],
        ['content_block_delta', { type: 'content_block_delta', delta: { text: 'x' } }],
        ['message_delta', { type: 'message_delta', usage: { output_tokens: 42 } }],
      ]),
    );
    expect(meter.finished).toBe(false);
    meter.events(sse([['message_stop', { type: 'message_stop' }]]));
    expect(meter.finished).toBe(true);
    expect(meter.usage()).toMatchObject({ inputTokens: 115, outputTokens: 42, reported: true });
  });

  it('reads the Responses API usage from response.completed, not the null usage of response.created', () => {
    const meter = createUsageMeter('responses');
    meter.events(sse([['response.created', { type: 'response.created', response: { usage: null } }]]));
    meter.events(
      sse([
        [
          'response.completed',
          { type: 'response.completed', response: { usage: { input_tokens: 7, output_tokens: 9 } } },
        ],
      ]),
    );
    expect(meter.finished).toBe(true);
    expect(meter.usage()).toMatchObject({ inputTokens: 7, outputTokens: 9 });
  });

  it('treats a provider error event as the end of a stream', () => {
    const meter = createUsageMeter('messages');
    meter.events(sse([['error', { type: 'error', error: { type: 'overloaded_error' } }]]));
    expect(meter.finished).toBe(true);
    const chat = createUsageMeter('chat_completions');
    chat.events(sse([[null, { error: { message: 'boom' } }]]));
    expect(chat.finished).toBe(true);
  });

  it('reads JSON bodies, embeddings having no output', () => {
    const embeddings = createUsageMeter('embeddings');
    embeddings.json(JSON.stringify({ data: [], usage: { prompt_tokens: 8, total_tokens: 8 } }));
    expect(embeddings.usage()).toMatchObject({ inputTokens: 8, outputTokens: 0, reported: true });
    const broken = createUsageMeter('chat_completions');
    broken.json('{"usage": {"prompt_tok');
    expect(broken.usage()).toMatchObject({
      inputTokens: 0,
      outputTokens: 0,
      reported: false,
      estimated: false,
    });
  });
});

describe('request shape', () => {
  it('derives the decision arguments per operation', () => {
    expect(
      shapeRequest('chat_completions', {
        model: 'm',
        max_tokens: 10,
        max_completion_tokens: 30,
        tools: [
          { type: 'function', function: { name: 'lookup' } },
          { type: 'custom', name: 'grep' },
        ],
        messages: [],
      }).args,
    ).toEqual({ model: 'm', stream: false, tools: ['lookup', 'grep'], max_tokens: 30 });
    expect(
      shapeRequest('responses', {
        model: 'm',
        max_output_tokens: 5,
        tools: [{ type: 'web_search' }],
        stream: true,
      }).args,
    ).toEqual({ model: 'm', stream: true, tools: ['web_search'], max_tokens: 5 });
    expect(
      shapeRequest('messages', { model: 'c', max_tokens: 9, tools: [{ name: 'get_weather' }] }).args,
    ).toEqual({
      model: 'c',
      stream: false,
      tools: ['get_weather'],
      max_tokens: 9,
    });
    expect(shapeRequest('embeddings', { model: 'e', input: 'x' }).args).toEqual({
      model: 'e',
      tools: [],
      stream: false,
    });
    expect(shapeRequest('models', undefined)).toMatchObject({
      model: null,
      args: { tools: [], stream: false },
      forward: null,
    });
  });

  it('asks for usage on streamed chat completions, keeping the stream options the agent set', () => {
    const shaped = shapeRequest('chat_completions', {
      model: 'm',
      stream: true,
      stream_options: { include_obfuscation: false },
    });
    expect(JSON.parse(shaped.forward?.toString() ?? '')).toMatchObject({
      stream_options: { include_obfuscation: false, include_usage: true },
    });
  });

  it('forwards the body it decided on, not the bytes it was sent', () => {
    // With duplicate keys JSON.parse keeps the last; the provider must see that same model, whatever its parser.
    const body = JSON.parse('{"model": "allowed", "model": "other"}') as unknown;
    const shaped = shapeRequest('chat_completions', body);
    expect(shaped.args.model).toBe('other');
    expect(shaped.forward?.toString()).toBe('{"model":"other"}');
  });
});

describe('budget windows', () => {
  it('are UTC days and calendar months', () => {
    const now = Date.UTC(2026, 1, 28, 23, 59);
    expect(budgetWindow('daily', now)).toEqual({
      since: Date.UTC(2026, 1, 28),
      resetsAt: Date.UTC(2026, 2, 1),
    });
    expect(budgetWindow('monthly', Date.UTC(2026, 11, 31, 12))).toEqual({
      since: Date.UTC(2026, 11, 1),
      resetsAt: Date.UTC(2027, 0, 1),
    });
  });
});

describe.each(STORE_DRIVERS)('llm_usage on %s', (driver) => {
  let fixture: TestStore;
  let store: Store;
  beforeEach(async () => {
    fixture = await openTestStore(driver);
    store = fixture.store;
  });
  afterEach(async () => fixture.dispose());

  const row = (id: string, extra: Partial<LlmUsageRecord>): LlmUsageRecord => ({
    id,
    at: Date.UTC(2026, 10, 20, 12),
    agentId: 'agt_a',
    teamId: 'team_x',
    sessionId: 'ses_1',
    provider: 'openai',
    operation: 'chat_completions',
    model: 'gpt-test',
    inputTokens: 10,
    outputTokens: 5,
    outcome: 'ok',
    durationMs: 12.6,
    ...extra,
  });

  it('sums tokens per agent and team since a time, and groups them', async () => {
    await store.llmUsage.insert(row('llm_1', {}));
    await store.llmUsage.insert(
      row('llm_2', { model: 'claude-test', provider: 'anthropic', inputTokens: 100 }),
    );
    await store.llmUsage.insert(row('llm_3', { agentId: 'agt_b', at: Date.UTC(2026, 10, 21, 1) }));
    await store.llmUsage.insert(
      row('llm_4', { agentId: 'agt_c', teamId: 'team_y', at: Date.UTC(2026, 9, 1) }),
    );

    expect(await store.llmUsage.totalTokens({ agentId: 'agt_a' }, Date.UTC(2026, 10, 20))).toBe(120);
    expect(await store.llmUsage.totalTokens({ teamId: 'team_x' }, Date.UTC(2026, 10, 21))).toBe(15);
    expect(await store.llmUsage.totalTokens({ agentId: 'agt_none' }, 0)).toBe(0);

    expect(await store.llmUsage.summarize({ since: Date.UTC(2026, 10, 1) }, 'model')).toEqual([
      { key: 'claude-test', requests: 1, inputTokens: 100, outputTokens: 5 },
      { key: 'gpt-test', requests: 2, inputTokens: 20, outputTokens: 10 },
    ]);
    expect(await store.llmUsage.summarize({ since: 0, teamId: 'team_x' }, 'agent')).toEqual([
      { key: 'agt_a', requests: 2, inputTokens: 110, outputTokens: 10 },
      { key: 'agt_b', requests: 1, inputTokens: 10, outputTokens: 5 },
    ]);
    expect(
      await store.llmUsage.summarize({ since: 0, until: Date.UTC(2026, 10, 1), agentId: 'agt_c' }, 'team'),
    ).toEqual([{ key: 'team_y', requests: 1, inputTokens: 10, outputTokens: 5 }]);
  });

  it('refuses with budget_exceeded once a budget is used up, naming the window', async () => {
    const now = Date.UTC(2026, 10, 20, 18);
    const owner = { agent: { id: 'agt_a', name: 'helper' }, team: { id: 'team_x', name: 'research' } };
    const budgets = { agents: { helper: { daily: 30 } }, teams: { research: { monthly: 1000 } } };
    await store.llmUsage.insert(row('llm_1', {}));
    await expect(enforceBudgets(store, budgets, owner, now)).resolves.toBeUndefined();
    await store.llmUsage.insert(row('llm_2', {}));
    await expect(enforceBudgets(store, budgets, owner, now)).rejects.toMatchObject({
      code: 'budget_exceeded',
      details: {
        scope: 'agent',
        name: 'helper',
        window: 'daily',
        used: 30,
        limit: 30,
        resetsAt: '2026-11-21T00:00:00.000Z',
      },
    });
    // Yesterday's tokens do not count today.
    await expect(enforceBudgets(store, budgets, owner, Date.UTC(2026, 10, 21, 1))).resolves.toBeUndefined();
  });
});
