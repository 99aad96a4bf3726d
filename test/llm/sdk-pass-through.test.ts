import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LlmFixture, startLlmFixture } from './llm-fixture.js';

const completedEntries = async (fixture: LlmFixture) =>
  (await fixture.audit()).filter((entry) => entry.action === 'llm.request.completed');

describe('LLM gateway with the official SDKs, against a stand-in provider', () => {
  let fixture: LlmFixture;

  beforeAll(async () => {
    fixture = await startLlmFixture();
  }, 30_000);
  afterAll(async () => {
    await fixture?.close();
  });

  it('passes a chat completion through, injecting the provider key and never the agent token', async () => {
    const openai = await fixture.openai();
    const before = fixture.provider.received.length;
    const completion = await openai.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'say hello to the gateway' }],
      max_completion_tokens: 100,
    });
    expect(completion.choices[0]?.message.content).toBe(
      'Hello from the stand-in provider, one word per token.',
    );
    expect(completion.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 9 });

    const received = fixture.provider.received.slice(before);
    expect(received).toHaveLength(1);
    const headers = received[0]?.headers ?? {};
    expect(headers.authorization).toBe(`Bearer ${fixture.provider.openaiKey}`);
    const token = await fixture.agents.helper.tokens.token();
    expect(JSON.stringify(headers)).not.toContain(token);
    expect(headers['gatehouse-session']).toBeUndefined();
    expect(headers['accept-encoding']).toBe('identity');

    await fixture.settled();
    const entry = (await completedEntries(fixture)).at(-1);
    expect(entry?.details).toMatchObject({
      provider: 'openai',
      operation: 'chat_completions',
      model: 'gpt-test',
      status: 200,
      outcome: 'ok',
      inputTokens: 5,
      outputTokens: 9,
      usage: 'reported',
    });
    expect(entry?.details).not.toHaveProperty('requestBody');
    expect(JSON.stringify(entry)).not.toContain('say hello');
  });

  it('streams a chat completion chunk by chunk and meters the final usage chunk', async () => {
    const openai = await fixture.openai();
    const stream = await openai.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
    });
    let text = '';
    let usage: unknown;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello from the stand-in provider, one word per token.');
    expect(chunks).toBeGreaterThan(9);
    // The gateway asked for usage (stream_options.include_usage) so the stream could be metered.
    expect(usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 9 });
    const forwarded = fixture.provider.received.at(-1)?.body as Record<string, unknown>;
    expect(forwarded.stream_options).toEqual({ include_usage: true });

    await fixture.settled();
    expect((await completedEntries(fixture)).at(-1)?.details).toMatchObject({
      operation: 'chat_completions',
      stream: true,
      outcome: 'ok',
      inputTokens: 2,
      outputTokens: 9,
      usage: 'reported',
    });
  });

  it('passes the Responses API through, plain and streaming', async () => {
    const openai = await fixture.openai();
    const response = await openai.responses.create({
      model: 'gpt-test',
      input: 'one two three',
      max_output_tokens: 4,
    });
    expect(response.output_text).toBe('Hello from the stand-in');
    expect(response.usage).toMatchObject({ input_tokens: 3, output_tokens: 4 });

    const stream = await openai.responses.create({
      model: 'gpt-test',
      input: 'four words right here',
      stream: true,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');

    await fixture.settled();
    const [plain, streamed] = (await completedEntries(fixture)).slice(-2);
    expect(plain?.details).toMatchObject({ operation: 'responses', inputTokens: 3, outputTokens: 4 });
    expect(streamed?.details).toMatchObject({
      operation: 'responses',
      stream: true,
      inputTokens: 4,
      outputTokens: 9,
    });
  });

  it('passes embeddings through (base64 as the SDK asks) and meters their prompt tokens', async () => {
    const openai = await fixture.openai();
    const result = await openai.embeddings.create({
      model: 'text-embedding-test',
      input: ['first text here', 'second'],
    });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding.slice(0, 3)).toEqual([0.125, -0.25, 0.5]);
    await fixture.settled();
    expect((await completedEntries(fixture)).at(-1)?.details).toMatchObject({
      operation: 'embeddings',
      inputTokens: 4,
      outputTokens: 0,
    });
  });

  it('lists models through both wire formats', async () => {
    const openai = await fixture.openai();
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toEqual(['gpt-test', 'text-embedding-test']);

    const anthropic = await fixture.anthropic();
    const models = await anthropic.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['claude-test']);
  });

  it('passes an Anthropic message through with x-api-key and anthropic-version', async () => {
    const anthropic = await fixture.anthropic();
    const before = fixture.provider.received.length;
    const message = await anthropic.messages.create({
      model: 'claude-test',
      max_tokens: 5,
      system: 'be brief',
      messages: [{ role: 'user', content: 'hello there claude' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from the stand-in provider,' }]);
    expect(message.usage).toMatchObject({ input_tokens: 5, output_tokens: 5 });
    expect(message.stop_reason).toBe('max_tokens');

    const headers = fixture.provider.received[before]?.headers ?? {};
    expect(headers['x-api-key']).toBe(fixture.provider.anthropicKey);
    // The SDK's own anthropic-version is passed through.
    expect(headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(headers.authorization).toBeUndefined();
  });

  it('streams an Anthropic message and meters message_start and message_delta usage', async () => {
    const anthropic = await fixture.anthropic();
    const stream = anthropic.messages.stream({
      model: 'claude-test',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'stream it' }],
    });
    const deltas: string[] = [];
    stream.on('text', (text) => deltas.push(text));
    const message = await stream.finalMessage();
    expect(deltas.join('')).toBe('Hello from the stand-in provider, one word per token.');
    expect(message.usage).toMatchObject({ input_tokens: 2, output_tokens: 9 });

    await fixture.settled();
    expect((await completedEntries(fixture)).at(-1)?.details).toMatchObject({
      provider: 'anthropic',
      operation: 'messages',
      stream: true,
      outcome: 'ok',
      inputTokens: 2,
      outputTokens: 9,
    });
  });

  it('records one usage row per forwarded request and serves the report on the admin API', async () => {
    await fixture.settled();
    const response = await fetch(`${fixture.url}/admin/v1/usage?by=model&since=1d`, {
      headers: { authorization: `Bearer ${fixture.adminToken}` },
    });
    expect(response.status).toBe(200);
    const report = (await response.json()) as {
      rows: Array<{ key: string; requests: number; inputTokens: number; outputTokens: number }>;
      totals: { requests: number };
    };
    const byModel = Object.fromEntries(report.rows.map((row) => [row.key, row]));
    expect(byModel['claude-test']).toMatchObject({ requests: 2, inputTokens: 7, outputTokens: 14 });
    expect(byModel['text-embedding-test']).toMatchObject({ requests: 1, inputTokens: 4, outputTokens: 0 });
    expect(byModel['gpt-test']?.requests).toBe(4);
    // Model listings carry no tokens and get no row.
    expect(report.totals.requests).toBe(7);

    const byAgent = await fetch(`${fixture.url}/admin/v1/usage?by=agent&agent=helper`, {
      headers: { authorization: `Bearer ${fixture.adminToken}` },
    });
    const agentReport = (await byAgent.json()) as { rows: Array<{ name: string; requests: number }> };
    expect(agentReport.rows).toEqual([expect.objectContaining({ name: 'helper', requests: 7 })]);
  });
});
