/**
 * The OpenID AuthZEN 1.0 PDP certification scenario, run case by case from the shared `cases.json`: one test per
 * case id of the Basic (c-2), Batch (c-3), Transport (c-5) and Discovery (c-6) levels, so a case added to the file
 * shows up here (and fails until it is automated). Cases with JSON request blocks are checked generically from
 * their blocks and expected text; the others have a check of their own below. Search (c-4) is not implemented.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminToken } from '../../src/identity/admin-tokens.js';
import { readPolicySources } from '../../src/policy-runtime/index.js';
import { api, createTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';

const CONFORMANCE = new URL('../../../shared/conformance/authzen/', import.meta.url);
const POLICIES = new URL('./policies/', import.meta.url);
const ISSUER = 'https://pdp.gatehouse.test';
const EVALUATION = '/access/v1/evaluation';
const EVALUATIONS = '/access/v1/evaluations';
const METADATA = '/.well-known/authzen-configuration';

interface CertificationCase {
  id: string;
  title: string;
  parent: string | null;
  certification_sublevels: string[];
  blocks: Array<Record<string, unknown>>;
  expected_text: string[];
  prose: string;
}

const { cases } = JSON.parse(readFileSync(new URL('certification/cases.json', CONFORMANCE), 'utf8')) as {
  cases: CertificationCase[];
};

/** The levels Gatehouse certifies against, by the case id's section. */
const LEVELS: Record<string, string> = {
  'c-2': 'Basic',
  'c-3': 'Batch',
  'c-5': 'Transport',
  'c-6': 'Discovery',
};
/** Sections not automated, with the reason; every case of them is counted, none is silently dropped. */
const NOT_AUTOMATED: Record<string, string> = {
  'c-4':
    'Search certification: the AuthZEN Search APIs (subject, resource, action search) are not implemented',
};

const sectionOf = (id: string) => id.split('-').slice(0, 2).join('-');
const isHeading = (entry: CertificationCase) => cases.some((other) => other.id.startsWith(`${entry.id}-`));

// ---------------------------------------------------------------------------------------------------------------
// Generic checks from the JSON blocks

interface Exchange {
  request: Record<string, unknown>;
  status: number;
  /** Expected decisions, `null` for "any boolean"; undefined when the case states none. */
  decisions?: Array<boolean | null>;
  /** True when the expected response is one Decision, false for an `evaluations` array. */
  single: boolean;
}

const isRaw = (block: Record<string, unknown>) => typeof block._raw === 'string';
const isResponse = (block: Record<string, unknown>) =>
  (isRaw(block) && String(block._raw).includes('"decision"')) ||
  'decision' in block ||
  (Array.isArray(block.evaluations) &&
    block.evaluations.length > 0 &&
    block.evaluations.every((item) => item !== null && typeof item === 'object' && 'decision' in item));
const REQUEST_KEYS = ['subject', 'action', 'resource', 'context', 'evaluations', 'options'];
const isRequest = (block: Record<string, unknown>) =>
  !isRaw(block) && !isResponse(block) && Object.keys(block).some((key) => REQUEST_KEYS.includes(key));

/** The request/response pairs of an evaluation case (c-2, c-3), with the status and decisions it expects. */
function exchangesOf(entry: CertificationCase): Exchange[] {
  const exchanges: Exchange[] = [];
  if (!['c-2', 'c-3'].includes(sectionOf(entry.id))) return exchanges;
  for (const block of entry.blocks) {
    if (isRequest(block)) {
      const text = entry.expected_text[exchanges.length] ?? '';
      const status = Number(/HTTP (\d{3})/.exec(text)?.[1] ?? Number.NaN);
      const stated = /`"decision": (true|false)`/.exec(text)?.[1];
      exchanges.push({
        request: block,
        status,
        single: !Array.isArray(block.evaluations) || block.evaluations.length === 0,
        ...(stated === undefined ? {} : { decisions: [stated === 'true'] }),
      });
      continue;
    }
    const last = exchanges.at(-1);
    if (!last || !isResponse(block)) continue;
    if (isRaw(block)) {
      const raw = String(block._raw);
      last.single = !raw.includes('"evaluations"');
      last.decisions = [...raw.matchAll(/"decision":\s*(true|false|<boolean>)/g)].map((match) =>
        match[1] === '<boolean>' ? null : match[1] === 'true',
      );
    } else if (Array.isArray(block.evaluations)) {
      last.single = false;
      last.decisions = block.evaluations.map((item) => (item as { decision: boolean }).decision);
    } else {
      last.single = true;
      last.decisions = [block.decision as boolean];
    }
  }
  return exchanges;
}

function endpointOf(entry: CertificationCase): string {
  return sectionOf(entry.id) === 'c-3' ? EVALUATIONS : EVALUATION;
}

// ---------------------------------------------------------------------------------------------------------------
// The PDP under test

let fx: TestGatehouse;
let pep: string;

beforeAll(async () => {
  fx = await createTestGatehouse({ config: { server: { publicUrl: ISSUER } } });
  pep = (
    await createAdminToken(
      fx.gatehouse,
      { actor: 'test:bootstrap', role: 'admin', userId: null },
      { role: 'pep', name: 'certification harness' },
    )
  ).secret;
  const sources = await readPolicySources(new URL('certification', POLICIES).pathname);
  await fx.gatehouse.policies.publish(sources, { actor: 'test', activate: true });
});
afterAll(async () => fx.dispose());

const post = (url: string, body: unknown) => api(fx, 'POST', url, body, pep);

async function raw(url: string, payload: string | undefined, headers: Record<string, string>) {
  const response = await fx.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${pep}`, ...headers },
    ...(payload === undefined ? {} : { payload }),
  });
  return { status: response.statusCode, headers: response.headers, text: response.body };
}

const fixtureRequest = (subject: string, action: string, resource: string) => ({
  subject: { type: 'user', id: subject },
  action: { name: action },
  resource: { type: 'record', id: resource },
});
const PERMIT = fixtureRequest('alice', 'read', 'record-1');
const DENY = fixtureRequest('bob', 'write', 'record-1');

function expectJsonSuccess(response: { status: number; headers: Record<string, unknown> }) {
  expect(response.status).toBe(200);
  expect(String(response.headers['content-type'])).toMatch(/^application\/json\b/);
}

/** A Decision: a boolean `decision`, and a `context` that is an object when present. */
function expectDecisionShape(decision: unknown) {
  expect(decision).toBeTypeOf('object');
  const { decision: value, context } = decision as { decision: unknown; context?: unknown };
  expect(value).toBeTypeOf('boolean');
  if (context !== undefined) {
    expect(context).toBeTypeOf('object');
    expect(Array.isArray(context)).toBe(false);
    expect(context).not.toBeNull();
  }
}

async function runExchange(url: string, exchange: Exchange) {
  const response = await post(url, exchange.request);
  expect(response.status, JSON.stringify(response.body)).toBe(exchange.status);
  if (exchange.status !== 200) {
    expect(String(response.headers['content-type'])).toMatch(/^application\/problem\+json\b/);
    expect(response.body.status).toBe(exchange.status);
    return;
  }
  expectJsonSuccess(response);
  if (exchange.single) {
    expectDecisionShape(response.body);
    expect(response.body.evaluations).toBeUndefined();
    const [expected] = exchange.decisions ?? [null];
    if (expected !== null && expected !== undefined) expect(response.body.decision).toBe(expected);
    return;
  }
  expect(Array.isArray(response.body.evaluations)).toBe(true);
  // SHOULD omit a top-level decision beside `evaluations`.
  expect(response.body.decision).toBeUndefined();
  const requested = (exchange.request.evaluations as unknown[]).length;
  expect(response.body.evaluations).toHaveLength(requested);
  if (exchange.decisions) expect(response.body.evaluations).toHaveLength(exchange.decisions.length);
  response.body.evaluations.forEach((item: unknown, index: number) => {
    expectDecisionShape(item);
    const expected = exchange.decisions?.[index];
    if (expected !== null && expected !== undefined)
      expect((item as { decision: boolean }).decision).toBe(expected);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Checks of the cases without JSON request blocks (or with more to check than their blocks say)

const CHECKS: Record<string, () => Promise<void>> = {
  'c-2-1': async () => {
    expectJsonSuccess(await post(EVALUATION, PERMIT));
  },
  'c-2-3-1': async () => {
    for (const request of [PERMIT, DENY]) {
      const response = await post(EVALUATION, request);
      expectJsonSuccess(response);
      expect(() => JSON.parse(response.text)).not.toThrow();
      expect(response.body.decision).toBeTypeOf('boolean');
    }
  },
  'c-2-3-2': async () => {
    for (const request of [PERMIT, DENY]) {
      const response = await post(EVALUATION, request);
      expectDecisionShape(response.body);
      // Gatehouse always explains itself: the context is there, and an object.
      expect(response.body.context).toMatchObject({ reason_admin: { en: expect.any(String) } });
    }
  },
  'c-2-4-3': async () => {
    const payload = JSON.stringify(PERMIT);
    for (const contentType of [
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'nonsense',
    ]) {
      const response = await raw(EVALUATION, payload, { 'content-type': contentType });
      expect(response.status, contentType).toBe(400);
      expect(JSON.parse(response.text)).toMatchObject({ status: 400, code: 'invalid_request' });
    }
    expect((await raw(EVALUATION, payload, {})).status, 'no content type').toBe(400);
    // The control: the same body as JSON (a charset parameter is fine).
    const ok = await raw(EVALUATION, payload, { 'content-type': 'application/json; charset=utf-8' });
    expect(ok.status).toBe(200);
  },
  'c-2-4-4': async () => {
    for (const payload of [
      '{',
      '{"subject": {"type": "user", "id": "alice"},}',
      'not json',
      '{"a": 1} trailing',
    ]) {
      const response = await raw(EVALUATION, payload, { 'content-type': 'application/json' });
      expect(response.status, payload).toBe(400);
      expect(JSON.parse(response.text)).toMatchObject({ status: 400, code: 'invalid_request' });
    }
  },
  'c-2-4-5': async () => {
    expect((await raw(EVALUATION, '', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await raw(EVALUATION, undefined, { 'content-type': 'application/json' })).status).toBe(400);
    expect((await raw(EVALUATION, undefined, {})).status).toBe(400);
  },
  'c-2-5-1': async () => {
    const id = 'bfe9eb29-ab87-4ca3-be83-a1d5d8305716';
    for (const [url, payload] of [
      [EVALUATION, PERMIT],
      [EVALUATIONS, { evaluations: [PERMIT, DENY] }],
      [EVALUATION, { subject: PERMIT.subject }],
    ] as const) {
      const response = await raw(url, JSON.stringify(payload), {
        'content-type': 'application/json',
        'x-request-id': id,
      });
      expect(response.headers['x-request-id']).toBe(id);
    }
  },
  'c-2-5-2': async () => {
    const response = await post(EVALUATION, PERMIT);
    expectJsonSuccess(response);
    // MAY generate one: Gatehouse does.
    expect(response.headers['x-request-id']).toMatch(/\S/);
  },
  'c-2-6': async () => {
    for (const [request, expected] of [
      [PERMIT, true],
      [DENY, false],
    ] as const) {
      for (let attempt = 0; attempt < 5; attempt += 1) {
        expect((await post(EVALUATION, request)).body.decision).toBe(expected);
      }
    }
  },
  'c-3-1': async () => {
    const response = await post(EVALUATIONS, { evaluations: [PERMIT] });
    expectJsonSuccess(response);
    expect(response.body.evaluations).toHaveLength(1);
  },
  'c-3-3-1': async () => {
    for (const size of [1, 2, 5, 17]) {
      const evaluations = Array.from({ length: size }, (_, index) => (index % 2 === 0 ? PERMIT : DENY));
      expect((await post(EVALUATIONS, { evaluations })).body.evaluations).toHaveLength(size);
    }
  },
  'c-3-3-2': async () => {
    const pattern = [true, false, false, true, true, false];
    const evaluations = pattern.map((permit) => (permit ? PERMIT : DENY));
    const response = await post(EVALUATIONS, { evaluations });
    expect(response.body.evaluations.map((item: { decision: boolean }) => item.decision)).toEqual(pattern);
  },
  'c-3-3-3': async () => {
    const response = await post(EVALUATIONS, { evaluations: [PERMIT, DENY, {}] });
    expect(response.body.evaluations).toHaveLength(3);
    for (const item of response.body.evaluations) expectDecisionShape(item);
  },
  'c-3-3-4': async () => {
    const response = await post(EVALUATIONS, { evaluations: [PERMIT, DENY] });
    expect(response.body.evaluations).toHaveLength(2);
    expect(response.body).not.toHaveProperty('decision');
  },
  'c-5': async () => {
    // 1-2: JSON in, 200 + JSON out.
    expectJsonSuccess(await post(EVALUATION, PERMIT));
    expectJsonSuccess(await post(EVALUATIONS, { evaluations: [PERMIT] }));
    // 3: missing required fields.
    expect((await post(EVALUATION, { subject: PERMIT.subject, action: PERMIT.action })).status).toBe(400);
    // 4: X-Request-ID echo.
    const echoed = await raw(EVALUATIONS, JSON.stringify({ evaluations: [PERMIT] }), {
      'content-type': 'application/json',
      'x-request-id': 'transport-1',
    });
    expect(echoed.headers['x-request-id']).toBe('transport-1');
    // 5: unknown fields ignored, at every level.
    const extended = {
      ...PERMIT,
      subject: { ...PERMIT.subject, nickname: 'al' },
      future: { nested: [1, 2] },
    };
    expect((await post(EVALUATION, extended)).body.decision).toBe(true);
    expect(
      (await post(EVALUATIONS, { evaluations: [extended], futureOption: true })).body.evaluations,
    ).toEqual([expect.objectContaining({ decision: true })]);
  },
  'c-6-1': async () => {
    // Gatehouse is one PDP per issuer (no tenant paths): the metadata is at the root well-known URI.
    const response = await api(fx, 'GET', METADATA, undefined, null);
    expectJsonSuccess(response);
  },
  'c-6-2': async () => {
    const response = await api(fx, 'GET', METADATA, undefined, null);
    expectJsonSuccess(response);
    // Every parameter Gatehouse publishes is one the example response names.
    const example = cases.find((entry) => entry.id === 'c-6-2')?.blocks.find((block) => !isRaw(block)) ?? {};
    expect(Object.keys(example)).toEqual(expect.arrayContaining(Object.keys(response.body)));
  },
  'c-6-3': async () => {
    const { body } = await api(fx, 'GET', METADATA, undefined, null);
    expect(body.policy_decision_point).toBe(ISSUER);
    expect(new URL(body.policy_decision_point).search).toBe('');
    expect(new URL(body.policy_decision_point).hash).toBe('');
    expect(body.access_evaluation_endpoint).toBe(`${ISSUER}${EVALUATION}`);
  },
  'c-6-4': async () => {
    const { body } = await api(fx, 'GET', METADATA, undefined, null);
    expect(body.access_evaluations_endpoint).toBe(`${ISSUER}${EVALUATIONS}`);
    // Not supported, so absent (the spec reads absence as "not capable"); zero-valued parameters are omitted.
    for (const key of ['search_subject_endpoint', 'search_resource_endpoint', 'search_action_endpoint']) {
      expect(body).not.toHaveProperty(key);
    }
    expect(body).not.toHaveProperty('capabilities');
    expect(body).not.toHaveProperty('signed_metadata');
  },
  'c-6-5': async () => {
    const response = await api(fx, 'GET', METADATA, undefined, null);
    expectJsonSuccess(response);
    expect(() => JSON.parse(response.text)).not.toThrow();
    const { body } = response;
    expect(body.policy_decision_point).toBe(ISSUER);
    for (const [key, value] of Object.entries(body)) {
      if (key.endsWith('_endpoint')) expect(new URL(String(value)).protocol, key).toBe('https:');
    }
    if (body.capabilities !== undefined) {
      expect(
        Array.isArray(body.capabilities) && body.capabilities.every((c: unknown) => typeof c === 'string'),
      ).toBe(true);
    }
    // And every endpoint it names answers there.
    const path = (url: string) => new URL(url).pathname;
    expectJsonSuccess(await post(path(body.access_evaluation_endpoint), PERMIT));
    expectJsonSuccess(await post(path(body.access_evaluations_endpoint), { evaluations: [PERMIT] }));
  },
  'c-6-6': async () => {
    const response = await api(fx, 'GET', METADATA, undefined, null);
    expect(response.status).not.toBe(404);
    expect(response.status).toBe(200);
    // The default paths work as well, for harnesses that do not discover.
    expectJsonSuccess(await post(EVALUATION, PERMIT));
    expectJsonSuccess(await post(EVALUATIONS, { evaluations: [PERMIT] }));
  },
};

// ---------------------------------------------------------------------------------------------------------------

type Kind = 'heading' | 'json' | 'custom' | 'json+custom' | 'not automated' | 'unhandled';

function kindOf(entry: CertificationCase): Kind {
  if (NOT_AUTOMATED[sectionOf(entry.id)]) return 'not automated';
  const json = exchangesOf(entry).length > 0;
  const custom = CHECKS[entry.id] !== undefined;
  if (json && custom) return 'json+custom';
  if (json) return 'json';
  if (custom) return 'custom';
  return isHeading(entry) ? 'heading' : 'unhandled';
}

for (const [section, level] of Object.entries(LEVELS)) {
  describe(`AuthZEN certification: ${level} (${section})`, () => {
    for (const entry of cases.filter((candidate) => sectionOf(candidate.id) === section)) {
      const levels = entry.certification_sublevels.join(', ') || level;
      it(`${entry.id} ${entry.title} [${levels}]`, async () => {
        const kind = kindOf(entry);
        expect(kind, `no automated check for ${entry.id}: add one to CHECKS`).not.toBe('unhandled');
        if (kind === 'heading') {
          // A section heading: its requirements are the sub-cases', each a test of its own.
          expect(cases.filter((other) => other.id.startsWith(`${entry.id}-`)).length).toBeGreaterThan(0);
          return;
        }
        for (const exchange of exchangesOf(entry)) {
          expect(Number.isNaN(exchange.status), `${entry.id}: no expected status`).toBe(false);
          await runExchange(endpointOf(entry), exchange);
        }
        await CHECKS[entry.id]?.();
      });
    }
  });
}

describe('AuthZEN certification: coverage of cases.json', () => {
  it('automates every Basic, Batch, Transport and Discovery case, and names what it leaves out', () => {
    const tally = new Map<Kind, string[]>();
    for (const entry of cases) tally.set(kindOf(entry), [...(tally.get(kindOf(entry)) ?? []), entry.id]);
    const count = (kind: Kind) => tally.get(kind)?.length ?? 0;
    expect(cases).toHaveLength(80);
    expect(tally.get('unhandled') ?? []).toEqual([]);
    // 53 cases in scope: 10 section headings (checked through their sub-cases), 43 with checks of their own:
    // 22 from their JSON blocks, 21 by a hand-written check.
    expect(count('heading')).toBe(10);
    expect(count('json')).toBe(22);
    expect(count('custom')).toBe(21);
    expect(count('json+custom')).toBe(0);
    // Not automated: the 27 Search cases (c-4), as the Search APIs are not implemented.
    expect(tally.get('not automated')).toEqual(
      cases.filter((entry) => entry.id.startsWith('c-4')).map((e) => e.id),
    );
    expect(count('not automated')).toBe(27);
  });
});
