/**
 * The AuthZEN Todo interop scenario, decision by decision, from the shared decision files of the 1.0 drafts 01
 * and 02 (draft 02 adds three batch requests). The Todo policy is written in Gatehouse's policy language
 * (policies/todo). Draft 00 and the pre-1.0 file are not run: they put `ownerID` beside, not inside, the resource
 * `properties`, and a 1.0 PDP ignores unknown fields, so their ownership cases cannot be decided from them.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminToken } from '../../src/identity/admin-tokens.js';
import { readPolicySources } from '../../src/policy-runtime/index.js';
import { api, createTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';

const CONFORMANCE = new URL('../../../shared/conformance/authzen/', import.meta.url);
const readJson = (path: string) => JSON.parse(readFileSync(new URL(path, CONFORMANCE), 'utf8'));

interface Entity {
  type: string;
  id: string;
  properties?: Record<string, unknown>;
}
interface TodoRequest {
  subject?: Entity;
  action?: { name: string };
  resource?: Entity;
  evaluations?: Array<Record<string, unknown>>;
}
interface DecisionFile {
  evaluation: Array<{ request: TodoRequest; expected: boolean }>;
  evaluations?: Array<{ request: TodoRequest; expected: Array<{ decision: boolean }> }>;
}

const users = readJson('todo/pip-users-and-policy.json').subjects_by_pid as Record<string, { name: string }>;
const nameOf = (pid: string | undefined) => (pid ? (users[pid]?.name.split(' ')[0] ?? pid) : '(default)');
const DRAFTS = ['01', '02'] as const;
const files = Object.fromEntries(
  DRAFTS.map((draft) => [
    draft,
    readJson(`todo/decisions-authorization-api-1_0-${draft}.json`) as DecisionFile,
  ]),
);

let fx: TestGatehouse;
let pep: string;

beforeAll(async () => {
  fx = await createTestGatehouse();
  pep = (
    await createAdminToken(
      fx.gatehouse,
      { actor: 'test:bootstrap', role: 'admin', userId: null },
      { role: 'pep', name: 'todo interop' },
    )
  ).secret;
  const sources = await readPolicySources(new URL('./policies/todo', import.meta.url).pathname);
  await fx.gatehouse.policies.publish(sources, { actor: 'test', activate: true });
});
afterAll(async () => fx.dispose());

for (const draft of DRAFTS) {
  const file = files[draft] as DecisionFile;
  describe(`AuthZEN Todo interop, authorization-api-1_0-${draft}`, () => {
    it('has the 40 decisions of the scenario', () => {
      expect(file.evaluation).toHaveLength(40);
    });

    file.evaluation.forEach(({ request, expected }, index) => {
      const owner = request.resource?.properties?.ownerID;
      const label =
        `#${index + 1} ${nameOf(request.subject?.id)} ${request.action?.name} ` +
        `${request.resource?.type}:${request.resource?.id}${owner ? ` (owner ${owner})` : ''} -> ${expected}`;
      it(label, async () => {
        const response = await api(fx, 'POST', '/access/v1/evaluation', request, pep);
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        expect(response.body.decision, JSON.stringify(response.body.context)).toBe(expected);
      });
    });

    (file.evaluations ?? []).forEach(({ request, expected }, index) => {
      const label =
        `batch #${index + 1} ${nameOf(request.subject?.id)} ${request.action?.name} on ` +
        `${request.evaluations?.length} todos -> ${expected.map((item) => item.decision).join(', ')}`;
      it(label, async () => {
        const response = await api(fx, 'POST', '/access/v1/evaluations', request, pep);
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        expect(
          response.body.evaluations.map((item: { decision: boolean }) => ({ decision: item.decision })),
        ).toEqual(expected);
      });
    });
  });
}

describe('AuthZEN Todo interop: coverage', () => {
  it('runs the 40 decisions of drafts 01 and 02 and the 3 batch requests (6 items) of draft 02', () => {
    expect(files['01']?.evaluation).toHaveLength(40);
    expect(files['01']?.evaluations).toBeUndefined();
    expect(files['02']?.evaluation).toHaveLength(40);
    expect(files['02']?.evaluations).toHaveLength(3);
    expect(files['02']?.evaluations?.flatMap((batch) => batch.expected)).toHaveLength(6);
  });
});
