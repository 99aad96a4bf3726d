import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.js';
import type { Principal } from '../../src/policy/index.js';
import {
  createPolicyRuntime,
  createSessionService,
  watchPolicyPath,
} from '../../src/policy-runtime/index.js';
import { codeOf } from '../support/errors.js';
import { api, createTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { STORE_DRIVERS } from '../support/stores.js';

const TOOLS = `
tools:
  - { match: fs.read_file, labels: [reads:internal] }
  - { match: vault.read_secret, labels: [reads:secret] }
  - { match: http.post, labels: [egress] }
`;
const V1 = `
rules:
  - { id: allow-all, tool: ["fs.*", "vault.*", "http.*"], effect: allow }
  - { id: no-secret-egress, tool: { labels: [egress] }, taint: [secret], effect: deny }
`;
const V2 = `
rules:
  - { id: allow-all, tool: ["fs.*", "vault.*", "http.*"], effect: allow }
  - { id: no-egress-after-read, tool: http.post, after: { tool: fs.read_file }, effect: deny }
`;
const sources = (rules: string) => [
  { name: 'tools.yaml', text: TOOLS },
  { name: 'rules.yaml', text: rules },
];
const principal: Principal = { id: 'agt_1', name: 'coder', team: 'platform', review: 'approved' };

describe.each(STORE_DRIVERS)('policy versions and sessions on %s', (driver) => {
  let fixture: TestGatehouse;
  const clock = createManualClock(Date.UTC(2026, 5, 1));

  beforeEach(async () => {
    fixture = await createTestGatehouse({ driver, clock });
  });
  afterEach(async () => {
    await fixture.dispose();
  });

  it('denies everything until a version is active, then enforces it', async () => {
    const { policies, sessions } = fixture.gatehouse;
    const session = await sessions.start({ agentId: principal.id });
    const before = await sessions.decide({
      sessionId: session.id,
      principal,
      call: { tool: 'fs.read_file', args: {} },
    });
    expect(before.decision).toMatchObject({
      effect: 'deny',
      code: 'no_matching_rule',
      bundleVersion: 'none',
    });
    const published = await policies.publish(sources(V1), { actor: 'test', activate: true });
    expect(published).toMatchObject({ version: 1, unchanged: false, activated: true });
    const after = await sessions.decide({
      sessionId: session.id,
      principal,
      call: { tool: 'fs.read_file', args: {} },
    });
    expect(after.decision).toMatchObject({ effect: 'allow', bundleVersion: 'v1' });
    expect(after.step).toBe(2);
  });

  it('never stores a bundle that does not compile, and keeps the running one', async () => {
    const { policies } = fixture.gatehouse;
    await policies.publish(sources(V1), { actor: 'test', activate: true });
    const broken = sources('rules:\n  - { id: broken, effect: allow, condition: "nope ==" }\n');
    expect(await codeOf(policies.publish(broken, { actor: 'test', activate: true }))).toBe('policy_invalid');
    expect((await policies.list()).map((version) => version.version)).toEqual([1]);
    expect(policies.active().version).toBe('v1');
  });

  it('does not store an identical bundle twice', async () => {
    const { policies } = fixture.gatehouse;
    await policies.publish(sources(V1), { actor: 'test', activate: true });
    const again = await policies.publish(sources(V1), { actor: 'test', activate: true });
    expect(again).toMatchObject({ version: 1, unchanged: true });
  });

  it('persists session state: taint read in one call blocks egress in a later one, across service instances', async () => {
    const { policies, store } = fixture.gatehouse;
    await policies.publish(sources(V1), { actor: 'test', activate: true });
    const first = createSessionService({ store, clock, policies });
    const session = await first.start({ agentId: principal.id, scope: { customer: 'A' } });
    await first.decide({ sessionId: session.id, principal, call: { tool: 'vault.read_secret', args: {} } });
    // Another replica: its own runtime and session service over the same store.
    const replica = createSessionService({
      store,
      clock,
      policies: await createPolicyRuntime({ store, clock }),
    });
    const result = await replica.decide({
      sessionId: session.id,
      principal,
      call: { tool: 'http.post', args: {} },
    });
    expect(result.decision).toMatchObject({ effect: 'deny', ruleIds: ['no-secret-egress'] });
    const stored = await replica.get(session.id);
    expect(stored.state.taint.secrecy).toEqual(['secret']);
    expect(
      (await store.sessions.callsOf(session.id)).map((call) => [call.step, call.tool, call.outcome]),
    ).toEqual([
      [1, 'vault.read_secret', 'allowed'],
      [2, 'http.post', 'denied'],
    ]);
  });

  it('decides concurrent calls in one session one after the other: no lost step', async () => {
    const { policies, sessions, store } = fixture.gatehouse;
    await policies.publish(sources(V1), { actor: 'test', activate: true });
    const session = await sessions.start({ agentId: principal.id });
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        sessions.decide({ sessionId: session.id, principal, call: { tool: 'fs.read_file', args: {} } }),
      ),
    );
    expect(results.map((result) => result.step).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await store.sessions.find(session.id))?.state.step).toBe(6);
  });

  it("refuses a call in another agent's session and an unknown session", async () => {
    const { sessions } = fixture.gatehouse;
    const session = await sessions.start({ agentId: 'agt_other' });
    const call = { tool: 'fs.read_file', args: {} };
    expect(await codeOf(sessions.decide({ sessionId: session.id, principal, call }))).toBe('forbidden');
    expect(await codeOf(sessions.decide({ sessionId: 'ses_nope', principal, call }))).toBe(
      'session_not_found',
    );
  });

  it('runs a shadow bundle beside the active one and records where they differ', async () => {
    const { policies, sessions } = fixture.gatehouse;
    await policies.publish(sources(V1), { actor: 'test', activate: true });
    await policies.publish(sources(V2), { actor: 'test', shadow: true });
    const session = await sessions.start({ agentId: principal.id });
    await sessions.decide({ sessionId: session.id, principal, call: { tool: 'fs.read_file', args: {} } });
    const post = await sessions.decide({
      sessionId: session.id,
      principal,
      call: { tool: 'http.post', args: {} },
    });
    expect(post.decision.effect).toBe('allow');
    expect(post.shadow).toMatchObject({
      effect: 'deny',
      ruleIds: ['no-egress-after-read'],
      bundleVersion: 'v2',
    });
    const differences = await api(fixture, 'GET', '/admin/v1/policies/shadow/differences');
    expect(differences.status).toBe(200);
    expect(differences.body.differences).toEqual([
      expect.objectContaining({
        tool: 'http.post',
        step: 2,
        active: { version: 'v1', effect: 'allow', ruleIds: ['allow-all'] },
        shadow: { version: 'v2', effect: 'deny', ruleIds: ['no-egress-after-read'] },
      }),
    ]);
  });

  it('diffs a candidate against recorded sessions over the admin API', async () => {
    const { policies, sessions } = fixture.gatehouse;
    await policies.publish(sources(V1), { actor: 'test', activate: true });
    const session = await sessions.start({ agentId: principal.id });
    for (const tool of ['fs.read_file', 'http.post', 'vault.read_secret', 'http.post']) {
      await sessions.decide({ sessionId: session.id, principal, call: { tool, args: {} } });
    }
    const diff = await api(fixture, 'POST', '/admin/v1/policies/diff', { sources: sources(V2) });
    expect(diff.status).toBe(200);
    expect(diff.body).toMatchObject({ sessions: 1, calls: 4, active: 'v1', candidate: 'candidate' });
    // v1 denies only the post after the secret; v2 denies both posts after the read.
    expect(diff.body.changes).toEqual([
      expect.objectContaining({
        step: 2,
        tool: 'http.post',
        before: expect.objectContaining({ effect: 'allow' }),
      }),
    ]);
    const invalid = await api(fixture, 'POST', '/admin/v1/policies/diff', { sources: sources('rules: 3') });
    expect(invalid).toMatchObject({ status: 400, body: { code: 'policy_invalid' } });
  });

  it('serves versions over the admin API and audits publication and activation', async () => {
    const published = await api(fixture, 'POST', '/admin/v1/policies', {
      sources: sources(V1),
      activate: true,
    });
    expect(published).toMatchObject({ status: 201, body: { version: 1 } });
    await api(fixture, 'POST', '/admin/v1/policies', { sources: sources(V2) });
    const activated = await api(fixture, 'POST', '/admin/v1/policies/2/activate');
    expect(activated.body.status.active.version).toBe(2);
    const listing = await api(fixture, 'GET', '/admin/v1/policies');
    expect(listing.body.versions.map((version: { version: number }) => version.version)).toEqual([2, 1]);
    const shown = await api(fixture, 'GET', '/admin/v1/policies/1');
    expect(shown.body.sources).toEqual(sources(V1));
    expect((await api(fixture, 'GET', '/admin/v1/policies/9')).body.code).toBe('policy_version_not_found');
    const audit = await fixture.gatehouse.store.audit.list(0, 1000);
    expect(audit.map((entry) => entry.action).filter((action) => action.startsWith('policy.'))).toEqual([
      'policy.published',
      'policy.activated',
      'policy.published',
      'policy.activated',
    ]);
  });
});

describe('hot reload from a policy path', () => {
  let fixture: TestGatehouse;
  let dir: string;

  beforeEach(async () => {
    fixture = await createTestGatehouse();
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-policy-'));
  });
  afterEach(async () => {
    await fixture.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('activates a changed bundle, and rejects a broken one while the running one stays', async () => {
    await writeFile(join(dir, 'tools.yaml'), TOOLS);
    await writeFile(join(dir, 'rules.yaml'), V1);
    const lines: string[] = [];
    const { policies, audit } = fixture.gatehouse;
    const watcher = watchPolicyPath({
      path: dir,
      policies,
      audit,
      log: (line) => lines.push(line),
      watch: true,
    });
    try {
      expect((await watcher.reloadNow()).ok).toBe(true);
      expect(policies.active().version).toBe('v1');

      await writeFile(join(dir, 'rules.yaml'), 'rules:\n  - id: bad\n    effect: allow\n    oops: 1\n');
      const rejected = await watcher.reloadNow();
      expect(rejected).toMatchObject({
        ok: false,
        problems: [expect.objectContaining({ file: 'rules.yaml', line: 2, ruleId: 'bad' })],
      });
      expect(policies.active().version).toBe('v1');
      expect(lines.join('\n')).toContain('rejected');

      // The watcher notices a file change by itself.
      await writeFile(join(dir, 'rules.yaml'), V2);
      const deadline = Date.now() + 5000;
      while (policies.active().version !== 'v2' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(policies.active().version).toBe('v2');
    } finally {
      watcher.close();
    }
  });
});
