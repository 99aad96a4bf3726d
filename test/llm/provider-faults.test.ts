import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LlmFixture, startLlmFixture } from './llm-fixture.js';

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('LLM gateway: provider faults, and keys that never leak', () => {
  let fixture: LlmFixture;

  beforeAll(async () => {
    fixture = await startLlmFixture({ storeBodies: true });
  }, 30_000);
  afterAll(async () => {
    await fixture?.close();
  });

  const lastCompleted = async () =>
    (await fixture.audit()).filter((entry) => entry.action === 'llm.request.completed').at(-1)?.details;

  it('answers a provider that does not answer in time with a clean provider_timeout', async () => {
    // No SDK retries here: each would wait for the timeout again.
    const openai = await fixture.openai(undefined, { maxRetries: 0 });
    const started = Date.now();
    const error = await failureOf(
      openai.chat.completions.create({ model: 'gpt-test-slow', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('provider_timeout');
    expect(Date.now() - started).toBeLessThan(1800);
    expect(await lastCompleted()).toMatchObject({
      model: 'gpt-test-slow',
      outcome: 'provider_timeout',
      status: null,
    });
  });

  it('answers a provider nobody listens for with provider_unavailable, and a missing key without naming it', async () => {
    const openai = new OpenAI({
      baseURL: `${fixture.url}/llm/down/v1`,
      apiKey: await fixture.agents.helper.tokens.token(),
      maxRetries: 0,
    });
    const down = (await failureOf(
      openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }),
    )) as InstanceType<typeof OpenAI.APIError>;
    expect(down.status).toBe(502);
    expect(down.code).toBe('provider_unavailable');
    expect(down.message).toContain('provider `down` is unreachable (ECONNREFUSED)');

    const nokey = new OpenAI({
      baseURL: `${fixture.url}/llm/nokey/v1`,
      apiKey: await fixture.agents.helper.tokens.token(),
      maxRetries: 0,
    });
    const missing = (await failureOf(nokey.models.list())) as InstanceType<typeof OpenAI.APIError>;
    expect(missing.status).toBe(502);
    expect(missing.code).toBe('provider_unavailable');
    expect(missing.message).not.toContain('missing-key');
    expect(fixture.logs.join('\n')).toContain('vault secret `missing-key` does not exist');
  });

  it('ends an OpenAI stream the provider cuts off with an error the SDK raises, metering what it saw', async () => {
    const openai = await fixture.openai();
    const stream = await openai.chat.completions.create({
      model: 'gpt-test-cut',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    let text = '';
    const error = await failureOf(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
    );
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('provider_stream_interrupted');
    // Whole events only: the three words sent before the cut, never half an event.
    expect(text).toBe('Hello from the');
    expect(await lastCompleted()).toMatchObject({
      outcome: 'provider_stream_interrupted',
      status: 200,
      outputTokens: 4,
      usage: 'estimated',
    });
  });

  it('ends an Anthropic stream the provider cuts off with an error event, keeping the input tokens', async () => {
    const anthropic = await fixture.anthropic();
    const stream = anthropic.messages.stream({
      model: 'claude-test-cut',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'three words here' }],
    });
    const error = await failureOf(stream.finalMessage());
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(
      ((error as InstanceType<typeof Anthropic.APIError>).error as { error: { code: string } }).error.code,
    ).toBe('provider_stream_interrupted');
    expect(await lastCompleted()).toMatchObject({
      outcome: 'provider_stream_interrupted',
      inputTokens: 3,
      outputTokens: 1,
      usage: 'reported',
    });
    const row = (await fixture.server.gatehouse.store.llmUsage.summarize({ since: 0 }, 'model')).find(
      (group) => group.key === 'claude-test-cut',
    );
    expect(row).toMatchObject({ requests: 1, inputTokens: 3, outputTokens: 1 });
  });

  it('ends a stream that stalls past the provider timeout with a provider_timeout error event', async () => {
    const openai = await fixture.openai();
    const stream = await openai.chat.completions.create({
      model: 'gpt-test-stall',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    let text = '';
    const error = (await failureOf(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
    )) as InstanceType<typeof OpenAI.APIError>;
    expect(error.code).toBe('provider_timeout');
    expect(text).toBe('Hello from the');
    expect(await lastCompleted()).toMatchObject({ outcome: 'provider_timeout', status: 200 });
  });

  it('stops the provider request when the agent goes away mid-stream', async () => {
    const openai = await fixture.openai();
    const stream = await openai.chat.completions.create({
      model: 'gpt-test-stall',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await lastCompleted()).toMatchObject({ model: 'gpt-test-stall', outcome: 'client_closed' });
  });

  it('answers a JSON body the provider cuts off with a clean provider error', async () => {
    const openai = await fixture.openai(undefined, { maxRetries: 0 });
    const error = (await failureOf(
      openai.chat.completions.create({ model: 'gpt-test-cut', messages: [{ role: 'user', content: 'x' }] }),
    )) as InstanceType<typeof OpenAI.APIError>;
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error.status).toBe(502);
    expect(error.code).toBe('provider_stream_interrupted');
    expect(await lastCompleted()).toMatchObject({ outcome: 'provider_stream_interrupted', stream: false });
  });

  it("passes the provider's own errors through, status and body", async () => {
    const openai = await fixture.openai(undefined, { maxRetries: 0 });
    const refused = (await failureOf(
      openai.chat.completions.create({ model: 'gpt-test-error', messages: [{ role: 'user', content: 'x' }] }),
    )) as InstanceType<typeof OpenAI.APIError>;
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused.message).toContain('model `gpt-test-error` is refused');

    const anthropic = await fixture.anthropic(undefined, { maxRetries: 0 });
    const overloaded = (await failureOf(
      anthropic.messages.create({
        model: 'claude-test-overloaded',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      }),
    )) as InstanceType<typeof Anthropic.APIError>;
    expect(overloaded.status).toBe(529);
    expect(overloaded.error).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'overloaded' },
    });
    expect(await lastCompleted()).toMatchObject({ outcome: 'http_529', status: 529 });
  });

  it('stores request and response bodies in the audit only when llm.storeBodies is on (it is here)', async () => {
    const openai = await fixture.openai();
    await openai.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'keep this prompt' }],
    });
    const details = await lastCompleted();
    expect(JSON.stringify(details?.requestBody)).toContain('keep this prompt');
    expect(String(details?.responseBody)).toContain('Hello from the stand-in provider');
    expect(fixture.logs.join('\n')).toContain('warning: llm.storeBodies is on');
  });

  it('never lets a provider key reach the agent, the logs or the audit log', async () => {
    const token = await fixture.agents.helper.tokens.token();
    const keys = [fixture.provider.openaiKey, fixture.provider.anthropicKey];
    const seen: string[] = [];
    const call = async (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) => {
      const response = await fetch(`${fixture.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
      });
      seen.push(`${response.status} ${JSON.stringify([...response.headers])} ${await response.text()}`);
      return response;
    };
    const chat = (model: string, extra: Record<string, unknown> = {}) =>
      call('/llm/openai/v1/chat/completions', {
        method: 'POST',
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], ...extra }),
      });
    await chat('gpt-test');
    await chat('gpt-test', { stream: true });
    await chat('gpt-test-error');
    await chat('gpt-test-cut', { stream: true });
    // A provider that quotes the key it got in its error: the gateway takes it out.
    const echoed = await chat('gpt-test-echo-key');
    expect(echoed.status).toBe(401);
    expect(seen.at(-1)).toContain('Incorrect API key provided: Bearer [redacted]');
    await call('/llm/anthropic/v1/messages', {
      method: 'POST',
      headers: { authorization: '', 'x-api-key': token },
      body: JSON.stringify({ model: 'claude-test-echo-key', max_tokens: 5, messages: [] }),
    });
    expect(seen.at(-1)).toContain('[redacted]');
    await call('/llm/anthropic/v1/messages', {
      method: 'POST',
      headers: { authorization: '', 'x-api-key': token },
      body: JSON.stringify({ model: 'claude-test', max_tokens: 5, stream: true, messages: [] }),
    });
    await call('/llm/openai/v1/models');
    // A provider's cookies stay with the gateway.
    expect(seen.some((text) => text.includes('__cf_bm'))).toBe(false);

    await fixture.settled();
    const exported = JSON.stringify(await fixture.audit());
    const everything = [...seen, fixture.logs.join('\n'), exported].join('\n');
    for (const key of keys) expect(everything).not.toContain(key);
    // The stand-in did get them: the gateway injected them.
    expect(fixture.provider.received.some((request) => request.headers['x-api-key'] === keys[1])).toBe(true);
  });
});
