import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { discoverOnServer, scheduleDiscovery } from '../../src/discovery/index.js';
import { createAdminToken } from '../../src/identity/admin-tokens.js';
import { findFreePort } from '../../src/lib/free-port.js';
import { createTeam, createUser, registerAgent } from '../../src/registry/index.js';
import { startServer } from '../../src/server/start-server.js';
import { api, createTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { STORE_DRIVERS } from '../support/stores.js';
import { writeTree } from './support/repos.js';

describe.each(STORE_DRIVERS)('discovery history, traffic and registration (%s)', (driver) => {
  let fixture: TestGatehouse;
  let tree: string;
  let writerId: string;

  beforeAll(async () => {
    tree = await mkdtemp(join(tmpdir(), 'gatehouse-history-'));
    await writeTree(tree, {
      'shadow-bot/package.json': JSON.stringify({ name: 'shadow-bot', dependencies: { openai: '^6' } }),
      'shadow-bot/index.ts': "import OpenAI from 'openai';\n",
    });
    fixture = await createTestGatehouse({
      driver,
      config: { discovery: { host: false, paths: [tree], resolveHosts: false } },
    });
    const { gatehouse } = fixture;
    await createTeam(gatehouse, 'test', { name: 'ml' });
    await createUser(gatehouse, 'test', { email: 'sam@example.com', teams: ['ml'] });
    const writer = await registerAgent(gatehouse, 'test', {
      name: 'writer',
      team: 'ml',
      sponsor: 'sam@example.com',
      manifest: { description: '', tools: [], egressHosts: [], llmProviders: ['openai'], dataClasses: [] },
    });
    writerId = writer.agent.id;
    // What the LLM gateway and the egress proxy record (docs/discovery.md names the fields read).
    await gatehouse.audit.record({
      actor: `agent:${writerId}`,
      action: 'llm.request.completed',
      target: null,
      details: { provider: 'anthropic', model: 'claude' },
    });
    await gatehouse.audit.record({
      actor: 'system',
      action: 'llm.request.refused',
      target: null,
      details: { provider: 'openai', code: 'invalid_token', ip: '10.9.8.7' },
    });
  });
  afterAll(async () => {
    await fixture.dispose();
    await rm(tree, { recursive: true, force: true });
  });

  it('serves the registry and the traffic the audit log saw', async () => {
    const context = await api(fixture, 'GET', '/admin/v1/discovery/context');
    expect(context.status).toBe(200);
    expect(context.body.agents).toEqual([
      expect.objectContaining({
        id: writerId,
        name: 'writer',
        llmProviders: ['openai'],
        reviewStatus: 'unreviewed',
      }),
    ]);
    expect(context.body.agents[0].manifestDigest).toMatch(/^[0-9a-f]{64}$/);
    const kinds = context.body.traffic.findings.map(
      (finding: { kind: string; summary: string }) => finding.kind,
    );
    expect(kinds.sort()).toEqual(['unexpected-provider', 'unregistered-caller']);
    // Traffic is read from the audit log: a reviewer may see the registry but not it.
    const { secret } = await createAdminToken(
      fixture.gatehouse,
      { actor: 'test', role: 'admin', userId: null },
      {
        role: 'reviewer',
      },
    );
    expect(
      (await api(fixture, 'GET', '/admin/v1/discovery/context?traffic=false', undefined, secret)).status,
    ).toBe(200);
    const refused = await api(fixture, 'GET', '/admin/v1/discovery/context', undefined, secret);
    expect(refused.status).toBe(403);
  });

  it('keeps history: new shadows are new once, first_seen stays, and each new one is audited', async () => {
    const first = await discoverOnServer(fixture.gatehouse, { actor: 'system', source: 'schedule' });
    expect(first.headline).toBe(
      '3 agents found: 0 approved, 1 registered and not approved, 2 unknown (2 new)',
    );
    const shadow = first.candidates.find((candidate) => candidate.name === 'shadow-bot');
    expect(shadow).toMatchObject({ isNew: true, registry: { status: 'unknown' } });
    const writer = first.candidates.find((candidate) => candidate.registry.agentId === writerId);
    expect(writer).toMatchObject({ kind: 'agent', isNew: true, registry: { matchedBy: 'agent-id' } });

    const schedule = scheduleDiscovery(fixture.gatehouse, { log: () => {} });
    const second = await schedule.runNow();
    schedule.stop();
    expect(second?.summary.newUnknown).toBe(0);
    const again = second?.candidates.find((candidate) => candidate.id === shadow?.id);
    expect(again).toMatchObject({ isNew: false, firstSeen: shadow?.firstSeen });

    await fixture.gatehouse.audit.flush();
    const entries = await fixture.gatehouse.store.audit.list(0, 1000);
    expect(
      entries
        .filter((entry) => entry.action === 'discovery.shadow_found')
        .map((entry) => entry.details.name)
        .sort(),
    ).toEqual(['10.9.8.7', 'shadow-bot']);
    expect(entries.filter((entry) => entry.action === 'discovery.completed')).toHaveLength(2);

    const runs = await api(fixture, 'GET', '/admin/v1/discovery/runs');
    expect(runs.body.runs).toHaveLength(2);
    const history = await api(fixture, 'GET', '/admin/v1/discovery/candidates?status=unknown');
    expect(history.body.candidates.map((candidate: { name: string }) => candidate.name).sort()).toEqual([
      '10.9.8.7',
      'shadow-bot',
    ]);
    const detail = await api(fixture, 'GET', `/admin/v1/discovery/candidates/${shadow?.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.candidate.firstSeen).toBe(shadow?.firstSeen);
    expect(detail.body.findings.map((finding: { kind: string }) => finding.kind).sort()).toEqual([
      'sdk-dependency',
      'sdk-import',
    ]);
    const missing = await api(fixture, 'GET', '/admin/v1/discovery/candidates/cand_000000000000');
    expect(missing.body.code).toBe('discovery_candidate_not_found');
  });

  it('registers a candidate as an unreviewed agent that later runs recognise', async () => {
    const report = await discoverOnServer(fixture.gatehouse, { actor: 'system', source: 'api' });
    const shadow = report.candidates.find((candidate) => candidate.name === 'shadow-bot');
    const registered = await api(fixture, 'POST', '/admin/v1/discovery/registrations', {
      team: 'ml',
      sponsor: 'sam@example.com',
      candidates: [
        {
          candidateId: shadow?.id,
          name: 'shadow-bot',
          labels: { 'discovery/path': shadow?.paths[0] },
          manifest: { llmProviders: ['openai'] },
        },
      ],
    });
    expect(registered.status).toBe(201);
    expect(registered.body.results[0].agent).toMatchObject({
      name: 'shadow-bot',
      reviewStatus: 'unreviewed',
    });
    expect(registered.body.results[0].agent.labels['discovery/candidate']).toBe(shadow?.id);
    expect(JSON.stringify(registered.body)).not.toContain('PRIVATE KEY');
    const after = await api(fixture, 'POST', '/admin/v1/discovery/scans');
    const matched = after.body.candidates.find((candidate: { id: string }) => candidate.id === shadow?.id);
    expect(matched.registry).toMatchObject({
      status: 'registered',
      matchedBy: 'candidate-label',
      reviewStatus: 'unreviewed',
    });
    const again = await api(fixture, 'POST', '/admin/v1/discovery/registrations', {
      team: 'ml',
      sponsor: 'sam@example.com',
      candidates: [{ candidateId: shadow?.id, name: 'shadow-bot' }],
    });
    expect(again.body.results[0].error.code).toBe('agent_exists');
    const noTeam = await api(fixture, 'POST', '/admin/v1/discovery/registrations', {
      team: 'nope',
      sponsor: 'sam@example.com',
      candidates: [{ candidateId: shadow?.id, name: 'other' }],
    });
    expect(noTeam.body.code).toBe('team_not_found');
  });
});

describe('scheduled discovery in the server', () => {
  it('runs on its interval when configured, and reports new shadows in the log', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-scheduled-'));
    // No project marker below the scanned path: the scanned directory is the project.
    await writeTree(dir, { 'tree/bot/agent.py': 'import anthropic\n' });
    const port = await findFreePort();
    const lines: string[] = [];
    const server = await startServer(
      parseConfig({
        dataDir: join(dir, 'data'),
        masterKey: 'q2Yp4KkH1mTe0sX2Cq6y8b0Vf3Jw9nLr5aZt7uPd1Ho=',
        server: { port, logLevel: 'silent' },
        discovery: { interval: '1s', host: false, paths: [join(dir, 'tree')] },
      }),
      { log: (line) => lines.push(line) },
    );
    try {
      const deadline = Date.now() + 8000;
      while (
        !lines.some((line) => line.startsWith('discovery: new shadow agent tree')) &&
        Date.now() < deadline
      ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(lines).toContain(
        'discovery: 1 agent found: 0 approved, 0 registered and not approved, 1 unknown (1 new)',
      );
      expect(lines.some((line) => line.startsWith('discovery: new shadow agent tree (cand_'))).toBe(true);
      const runs = await server.gatehouse.store.discovery.listRuns(10);
      expect(runs[0]).toMatchObject({ source: 'schedule', actor: 'system' });
      // Later runs with nothing new stay quiet.
      expect(lines.filter((line) => line.startsWith('discovery: '))).toHaveLength(2);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
