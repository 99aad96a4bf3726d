import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { DiscoveryReport } from '../../src/discovery/index.js';
import { fakeKey, IDLE, startChild, stopAllChildren, type TestChild } from './support/processes.js';
import { commitAs, initRepo, writeTree } from './support/repos.js';

const MASTER_KEY = randomBytes(32).toString('base64');

describe('gatehouse discover (CLI, embedded store)', () => {
  let dir: string;
  let repo: string;
  let agent: TestChild;
  const key = fakeKey('sk-proj-', 48);
  const planted = fakeKey('sk-ant-api03-', 64);

  const cli = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      env: { GATEHOUSE_DATA_DIR: join(dir, 'data'), GATEHOUSE_MASTER_KEY: MASTER_KEY },
      cwd: dir,
    });
    return { code, stdout, stderr };
  };
  const discoverJson = async (...argv: string[]) => {
    const result = await cli('discover', ...argv, '--json');
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as DiscoveryReport & { registrations?: unknown[] };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-discover-cli-'));
    repo = join(dir, 'refund-agent');
    await initRepo(repo);
    await writeTree(repo, {
      CODEOWNERS: '* @acme/payments\n',
      'requirements.txt': 'openai>=1\nlangchain\n',
      'agent.py': `from langchain_openai import ChatOpenAI\nFALLBACK_KEY = "${planted}"\n`,
    });
    await commitAs(repo, 'Pat Payments <pat@example.com>', 'refund agent');
    // The closed-network setting: no DNS for provider names, configured addresses only.
    await writeFile(join(dir, 'gatehouse.yaml'), 'discovery:\n  resolveHosts: false\n');
    agent = await startChild(process.execPath, ['-e', IDLE, 'agent.py'], {
      env: { OPENAI_API_KEY: key },
      cwd: repo,
      waitFor: 'ready',
    });
    expect((await cli('team', 'create', 'payments')).code).toBe(0);
    expect((await cli('user', 'create', 'pat@example.com', '--team', 'payments')).code).toBe(0);
  });
  afterAll(async () => {
    await stopAllChildren();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the process and its code as one unknown candidate, new, with an owner and no key in sight', async () => {
    const report = await discoverJson('--pid', String(agent.pid), '--path', repo);
    expect(report.summary).toMatchObject({ found: 1, registered: 0, approved: 0, unknown: 1, newUnknown: 1 });
    expect(report.headline).toBe(
      '1 agent found: 0 approved, 0 registered and not approved, 1 unknown (1 new)',
    );
    const [candidate] = report.candidates;
    expect(candidate).toMatchObject({
      name: 'refund-agent',
      kind: 'project',
      pids: [agent.pid],
      isNew: true,
      owner: { owner: '@acme/payments', source: 'codeowners' },
      level: 'high',
    });
    expect(candidate?.sources).toEqual(['host', 'path']);
    expect(candidate?.keys.map((sighting) => sighting.kind).sort()).toEqual([
      'anthropic-api-key',
      'openai-project-key',
    ]);
    const human = await cli('discover', '--pid', String(agent.pid), '--path', repo);
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n')[0]).toBe(
      '1 agent found: 0 approved, 0 registered and not approved, 1 unknown',
    );
    expect(human.stdout).toContain('owner: @acme/payments (codeowners)');
    expect(human.stdout).toContain(`first seen ${candidate?.firstSeen}`);
    for (const output of [JSON.stringify(report), human.stdout, human.stderr]) {
      expect(output).not.toContain(key);
      expect(output).not.toContain(planted);
    }
  });

  it('registers a chosen candidate as unreviewed; the next run finds it registered', async () => {
    const missingTeam = await cli('discover', '--path', repo, '--register', 'refund-agent');
    expect(missingTeam.code).toBe(2);
    expect(missingTeam.stderr).toContain('--team');
    const unknown = await cli(
      'discover',
      '--path',
      repo,
      '--register',
      'nobody-by-that-name',
      '--team',
      'payments',
      '--sponsor',
      'pat@example.com',
    );
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('discovery_candidate_not_found');

    const registered = await discoverJson(
      '--path',
      repo,
      '--register',
      'refund-agent',
      '--team',
      'payments',
      '--sponsor',
      'pat@example.com',
    );
    expect(registered.summary).toMatchObject({ found: 1, registered: 1, unknown: 0 });
    expect(registered.registrations).toEqual([
      expect.objectContaining({
        agent: expect.objectContaining({ name: 'refund-agent', reviewStatus: 'unreviewed' }),
      }),
    ]);
    const list = JSON.parse((await cli('agent', 'list', '--json')).stdout);
    expect(
      list.agents.map((item: { name: string; reviewStatus: string }) => [item.name, item.reviewStatus]),
    ).toEqual([['refund-agent', 'unreviewed']]);
    const manifest = JSON.parse((await cli('agent', 'manifest', 'list', 'refund-agent', '--json')).stdout);
    expect(manifest.manifests).toHaveLength(1);
    expect(manifest.manifests[0].manifest.llmProviders).toEqual(['anthropic', 'openai']);

    const later = await discoverJson('--pid', String(agent.pid), '--path', repo);
    expect(later.summary).toMatchObject({ found: 1, registered: 1, approved: 0, unknown: 0, newUnknown: 0 });
    expect(later.candidates[0]?.registry).toMatchObject({
      agentName: 'refund-agent',
      matchedBy: 'candidate-label',
    });
    expect(later.candidates[0]?.isNew).toBe(false);
  });

  it('works offline on a clean tree and on log files', async () => {
    const clean = join(dir, 'ledger');
    await writeTree(clean, { 'main.py': 'import json\n', 'README.md': '# ledger\n' });
    const report = await discoverJson('--offline', '--path', clean);
    expect(report.summary).toMatchObject({ found: 0, unknown: 0, newUnknown: null, registry: null });
    expect(report.candidates).toEqual([]);

    const audit = join(dir, 'audit.jsonl');
    await writeFile(
      audit,
      `${[
        {
          type: 'entry',
          seq: 7,
          time: '2026-01-01T00:00:00.000Z',
          actor: 'system',
          action: 'llm.request.refused',
          target: null,
          details: { provider: 'anthropic', code: 'invalid_token', ip: '10.0.0.9' },
        },
        { type: 'checkpoint', seq: 7, hash: 'x', time: '2026-01-01T00:00:00.000Z', kid: 'k', signature: 's' },
      ]
        .map((line) => JSON.stringify(line))
        .join('\n')}\n`,
    );
    const squid = join(dir, 'access.log');
    await writeFile(
      squid,
      '1767225600.123    45 10.20.30.40 TCP_TUNNEL/200 5120 CONNECT api.openai.com:443 - HIER_DIRECT/162.159.140.245 -\n' +
        '1767225601.456    12 10.20.30.41 TCP_TUNNEL/200 880 CONNECT example.org:443 - HIER_DIRECT/93.184.215.14 -\n',
    );
    const logs = await discoverJson('--offline', '--logs', audit, squid);
    expect(logs.candidates.map((candidate) => [candidate.name, candidate.providers]).sort()).toEqual([
      ['10.0.0.9', ['anthropic']],
      ['10.20.30.40', ['openai']],
    ]);
    expect(logs.stats.logs).toMatchObject({ files: 2, lines: 4 });
  });

  it('refuses paths that do not exist', async () => {
    const missing = await cli('discover', '--path', join(dir, 'nope'));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('discovery_path_not_found');
  });
});
