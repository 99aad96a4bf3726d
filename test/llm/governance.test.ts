import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { type LlmFixture, startLlmFixture } from './llm-fixture.js';

/** The API error an SDK call failed with (the SDKs' errors carry status, error body and headers). */
async function apiErrorOf(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError || error instanceof Anthropic.APIError) {
      return error as InstanceType<typeof OpenAI.APIError>;
    }
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('LLM gateway: policy, budgets and refusals', () => {
  let fixture: LlmFixture;

  beforeAll(async () => {
    fixture = await startLlmFixture();
  }, 30_000);
  afterAll(async () => {
    await fixture?.close();
  });

  const auditOf = async (action: string) =>
    (await fixture.audit()).filter((entry) => entry.action === action).map((entry) => entry.details);

  it('decides each request as llm.<provider>.<operation> with model, max_tokens, tools and stream', async () => {
    const openai = await fixture.openai();
    await openai.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 50,
      tools: [{ type: 'function', function: { name: 'shell', parameters: { type: 'object' } } }],
    });
    const decided = (await auditOf('llm.request.decided')).at(-1);
    expect(decided).toMatchObject({
      tool: 'llm.openai.chat_completions',
      effect: 'flag',
      ruleIds: ['watch-tools'],
    });
    const sessions = await fixture.server.gatehouse.store.sessions.list({
      agentId: fixture.agents.helper.id,
      limit: 5,
    });
    const calls = await fixture.server.gatehouse.store.sessions.callsOf(sessions[0]?.id ?? '');
    expect(calls.at(-1)).toMatchObject({
      tool: 'llm.openai.chat_completions',
      args: { model: 'gpt-test', max_tokens: 50, tools: ['shell'], stream: false },
    });
    expect((await auditOf('alert.flagged_call')).at(-1)).toMatchObject({ ruleIds: ['watch-tools'] });
  });

  it("decides in the task session the gatehouse-session header names, and refuses another agent's", async () => {
    const created = await fetch(`${fixture.url}/admin/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fixture.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'helper', scope: { customer: 'A' } }),
    });
    const { session } = (await created.json()) as { session: { id: string } };
    const openai = new OpenAI({
      baseURL: `${fixture.url}/llm/openai/v1`,
      apiKey: () => fixture.agents.helper.tokens.token(),
      defaultHeaders: { 'gatehouse-session': session.id },
    });
    await openai.embeddings.create({ model: 'text-embedding-test', input: 'x' });
    const decided = (await fixture.audit()).filter((entry) => entry.action === 'llm.request.decided').at(-1);
    expect(decided?.target).toBe(`session:${session.id}`);
    expect(fixture.provider.received.at(-1)?.headers['gatehouse-session']).toBeUndefined();

    const other = new OpenAI({
      baseURL: `${fixture.url}/llm/openai/v1`,
      apiKey: () => fixture.agents.budgeted.tokens.token(),
      defaultHeaders: { 'gatehouse-session': session.id },
    });
    const error = await apiErrorOf(other.models.list());
    expect(error.status).toBe(403);
    expect(error.code).toBe('forbidden');
  });

  it('accepts request bodies larger than the admin API limit, up to llm.maxRequestBytes', async () => {
    const openai = await fixture.openai();
    const long = 'word '.repeat(40_000);
    const completion = await openai.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: long }],
    });
    expect(completion.usage?.prompt_tokens).toBe(40_000);
  });

  it('refuses a model the policy denies, in the provider format, before the provider sees it', async () => {
    const openai = await fixture.openai();
    const before = fixture.provider.received.length;
    const error = await apiErrorOf(
      openai.chat.completions.create({
        model: 'gpt-test-forbidden',
        messages: [{ role: 'user', content: 'x' }],
      }),
    );
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(error.status).toBe(403);
    expect(error.code).toBe('policy_denied');
    expect(error.message).toContain('gpt-test-forbidden is not approved for agents');
    expect((error.error as { rule_ids?: string[] }).rule_ids).toEqual(['forbidden-model']);
    expect(fixture.provider.received.length).toBe(before);
  });

  it('caps max tokens with a rule, whichever field carries them', async () => {
    const openai = await fixture.openai();
    for (const field of ['max_tokens', 'max_completion_tokens'] as const) {
      const error = await apiErrorOf(
        openai.chat.completions.create({
          model: 'gpt-test',
          messages: [{ role: 'user', content: 'x' }],
          [field]: 4000,
        }),
      );
      expect(error.code).toBe('policy_denied');
      expect(error.message).toContain('at most 1000 output tokens');
    }
    const anthropic = await fixture.anthropic();
    const error = await apiErrorOf(
      anthropic.messages.create({
        model: 'claude-test',
        max_tokens: 4096,
        messages: [{ role: 'user', content: 'x' }],
      }),
    );
    expect(error).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((error.error as { error: { code: string; type: string } }).error).toMatchObject({
      type: 'permission_error',
      code: 'policy_denied',
    });
  });

  it('answers a model that needs approval with approval_required', async () => {
    const openai = await fixture.openai();
    const error = await apiErrorOf(
      openai.chat.completions.create({ model: 'gpt-test-big', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(error.status).toBe(403);
    expect(error.code).toBe('approval_required');
  });

  it('refuses an agent over its daily budget with budget_exceeded, before the provider, without SDK retries', async () => {
    const openai = await fixture.openai(fixture.agents.budgeted);
    await openai.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'spend it' }],
    });
    await fixture.settled();
    const before = fixture.provider.received.length;
    const decisionsBefore = (await auditOf('llm.request.decided')).length;
    // The client keeps the SDK's default retries: `x-should-retry: false` stops them.
    const error = await apiErrorOf(
      openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'more' }] }),
    );
    expect(error.status).toBe(429);
    expect(error.code).toBe('budget_exceeded');
    expect(error.message).toMatch(/agent `budgeted` has used 11 of its daily budget of 10 tokens/);
    expect(fixture.provider.received.length).toBe(before);
    expect((await auditOf('llm.request.decided')).length).toBe(decisionsBefore);
    expect((await auditOf('llm.request.refused')).at(-1)).toMatchObject({ code: 'budget_exceeded' });
  });

  it("refuses a team over its monthly budget, for any of the team's agents", async () => {
    const anthropic = await fixture.anthropic(fixture.agents.thrifty);
    await anthropic.messages.create({
      model: 'claude-test',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'a' }],
    });
    await fixture.settled();
    const error = await apiErrorOf(
      anthropic.messages.create({
        model: 'claude-test',
        max_tokens: 20,
        messages: [{ role: 'user', content: 'b' }],
      }),
    );
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(error.headers?.get('x-should-retry')).toBe('false');
    expect((error.error as { error: { code: string } }).error.code).toBe('budget_exceeded');
    expect(error.message).toContain('team `frugal`');
  });

  it('refuses a provider the manifest does not declare', async () => {
    const openai = await fixture.openai(fixture.agents.restricted);
    const error = await apiErrorOf(
      openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(error.status).toBe(403);
    expect(error.code).toBe('llm_provider_not_in_manifest');
    const anthropic = await fixture.anthropic(fixture.agents.restricted);
    await anthropic.messages.create({
      model: 'claude-test',
      max_tokens: 1,
      messages: [{ role: 'user', content: 'x' }],
    });
  });

  it('refuses a provider key sent by the agent, in either header, and forwards nothing', async () => {
    const before = fixture.provider.received.length;
    const openai = new OpenAI({
      baseURL: `${fixture.url}/llm/openai/v1`,
      apiKey: fixture.provider.openaiKey,
    });
    const error = await apiErrorOf(
      openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error.code).toBe('provider_key_refused');
    expect(error.message).not.toContain(fixture.provider.openaiKey);

    const anthropic = new Anthropic({
      baseURL: `${fixture.url}/llm/anthropic`,
      apiKey: 'sk-ant-api03-agent-held-key',
    });
    const refused = await apiErrorOf(
      anthropic.messages.create({
        model: 'claude-test',
        max_tokens: 1,
        messages: [{ role: 'user', content: 'x' }],
      }),
    );
    expect(refused).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((refused.error as { error: { code: string } }).error.code).toBe('provider_key_refused');
    expect(JSON.stringify(refused.error)).not.toContain('sk-ant-api03');
    expect(fixture.provider.received.length).toBe(before);

    const refusals = await auditOf('llm.request.refused');
    expect(refusals.filter((details) => details.code === 'provider_key_refused')).toHaveLength(2);
    expect(JSON.stringify(refusals)).not.toContain('sk-');
  });

  it('answers a missing or forged token with 401 invalid_token', async () => {
    const response = await fetch(`${fixture.url}/llm/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [] }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_token');
    const token = await fixture.agents.helper.tokens.token();
    const forged = `${token.slice(0, -4)}AAAA`;
    const openai = new OpenAI({ baseURL: `${fixture.url}/llm/openai/v1`, apiKey: forged });
    const error = await apiErrorOf(openai.models.list());
    expect(error.status).toBe(401);
    expect(error.code).toBe('invalid_token');
  });

  it('answers an unknown provider or route with 404 in the provider format', async () => {
    const token = await fixture.agents.helper.tokens.token();
    const post = (path: string, body: unknown = { model: 'gpt-test' }) =>
      fetch(`${fixture.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    const unknownProvider = await post('/llm/mistral/v1/chat/completions');
    expect(unknownProvider.status).toBe(404);
    expect(await unknownProvider.json()).toMatchObject({ error: { code: 'provider_not_found' } });
    const wrongKind = await post('/llm/anthropic/v1/chat/completions');
    expect(wrongKind.status).toBe(404);
    expect(await wrongKind.json()).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error', code: 'route_not_found' },
    });
    const unknownRoute = await post('/llm/openai/v1/audio/speech');
    expect(unknownRoute.status).toBe(404);
    expect(await unknownRoute.json()).toMatchObject({
      error: { code: 'route_not_found', type: 'not_found_error' },
    });
    const anthropicRoute = await post('/llm/anthropic/v1/messages/count_tokens');
    expect(await anthropicRoute.json()).toMatchObject({ type: 'error', error: { code: 'route_not_found' } });
  });

  it('refuses malformed bodies with 400 before deciding or forwarding', async () => {
    const token = await fixture.agents.helper.tokens.token();
    const before = fixture.provider.received.length;
    const send = (body: string, contentType = 'application/json') =>
      fetch(`${fixture.url}/llm/openai/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
        body,
      });
    for (const [body, message] of [
      ['{"model": "gpt-test", ', 'not valid JSON'],
      ['[1, 2]', 'must be a JSON object'],
      ['{"messages": []}', '`model` must be a non-empty string'],
      ['{"model": "gpt-test", "max_tokens": "9999"}', '`max_tokens` must be a non-negative integer'],
      ['{"model": "gpt-test", "stream": "yes"}', '`stream` must be a boolean'],
      ['{"model": "gpt-test", "tools": [{"type": 3}]}', '`tools[0]` has no name or type'],
    ] as const) {
      const response = await send(body);
      expect(response.status).toBe(400);
      const json = (await response.json()) as { error: { code: string; message: string; type: string } };
      expect(json.error).toMatchObject({ code: 'invalid_request', type: 'invalid_request_error' });
      expect(json.error.message).toContain(message);
    }
    const wrongType = await send('model=gpt-test', 'application/x-www-form-urlencoded');
    expect(wrongType.status).toBe(415);
    expect(fixture.provider.received.length).toBe(before);
  });

  it('prints the usage report with the CLI, by agent, with budgets', async () => {
    await fixture.settled();
    let out = '';
    const code = await runCli(
      ['--server', fixture.url, '--token', fixture.adminToken, 'usage', '--by', 'agent', '--since', '1d'],
      {
        stdout: (text) => {
          out += text;
        },
        stderr: () => {},
        env: {},
        cwd: '.',
      },
    );
    expect(code).toBe(0);
    expect(out).toMatch(/^AGENT\s+REQUESTS\s+INPUT\s+OUTPUT\s+TOTAL$/m);
    expect(out).toMatch(/^budgeted\s+1\s+2\s+9\s+11$/m);
    expect(out).toMatch(/^agent budgeted\s+daily\s+11\s+10\s+0\s/m);
    expect(out).toMatch(/^team frugal\s+monthly\s+10\s+10\s+0\s/m);

    let json = '';
    await runCli(
      ['--server', fixture.url, '--token', fixture.adminToken, '--json', 'usage', '--team', 'frugal'],
      {
        stdout: (text) => {
          json += text;
        },
        stderr: () => {},
        env: {},
        cwd: '.',
      },
    );
    const report = JSON.parse(json) as { rows: Array<{ key: string }>; budgets: Array<{ name: string }> };
    expect(report.rows.map((row) => row.key)).toEqual(['claude-test']);
    expect(report.budgets.map((budget) => budget.name)).toEqual(['frugal']);
  });
});
