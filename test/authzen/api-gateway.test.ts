/**
 * The AuthZEN API gateway interop scenario: route-level ("medium-grained") decisions, one test per decision of the
 * shared `api-gateway/decisions.json`, decided by the policy in policies/api-gateway.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminToken } from '../../src/identity/admin-tokens.js';
import { readPolicySources } from '../../src/policy-runtime/index.js';
import { api, createTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';

const CONFORMANCE = new URL('../../../shared/conformance/authzen/', import.meta.url);
const readJson = (path: string) => JSON.parse(readFileSync(new URL(path, CONFORMANCE), 'utf8'));

interface GatewayDecision {
  request: {
    subject: { type: string; id: string };
    action: { name: string };
    resource: { type: string; id: string };
  };
  expected: boolean;
}

const users = readJson('todo/pip-users-and-policy.json').subjects_by_pid as Record<string, { name: string }>;
const { evaluation: decisions } = readJson('api-gateway/decisions.json') as { evaluation: GatewayDecision[] };

let fx: TestGatehouse;
let pep: string;

beforeAll(async () => {
  fx = await createTestGatehouse();
  pep = (
    await createAdminToken(
      fx.gatehouse,
      { actor: 'test:bootstrap', role: 'admin', userId: null },
      { role: 'pep', name: 'api gateway interop' },
    )
  ).secret;
  const sources = await readPolicySources(new URL('./policies/api-gateway', import.meta.url).pathname);
  await fx.gatehouse.policies.publish(sources, { actor: 'test', activate: true });
});
afterAll(async () => fx.dispose());

describe('AuthZEN API gateway interop', () => {
  it('has the 25 route decisions of the scenario', () => {
    expect(decisions).toHaveLength(25);
  });

  decisions.forEach(({ request, expected }, index) => {
    const user = users[request.subject.id]?.name ?? request.subject.id;
    it(`#${index + 1} ${user} ${request.action.name} ${request.resource.id} -> ${expected}`, async () => {
      const response = await api(fx, 'POST', '/access/v1/evaluation', request, pep);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body.decision, JSON.stringify(response.body.context)).toBe(expected);
    });
  });

  it('answers the whole scenario as one batch, in order', async () => {
    const response = await api(
      fx,
      'POST',
      '/access/v1/evaluations',
      { evaluations: decisions.map((entry) => entry.request) },
      pep,
    );
    expect(response.status).toBe(200);
    expect(response.body.evaluations.map((item: { decision: boolean }) => item.decision)).toEqual(
      decisions.map((entry) => entry.expected),
    );
  });
});
