import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';

const EXAMPLES = resolve('examples/policies');
const MASTER_KEY = randomBytes(32).toString('base64');

describe('gatehouse policy', () => {
  let dir: string;

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

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-policy-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes the example bundle against its recorded sessions', async () => {
    const result = await cli('policy', 'test', EXAMPLES, join(EXAMPLES, 'tests'));
    expect(result.stdout).toMatch(/PASS: \d+ passed, 0 failed/);
    expect(result.code).toBe(0);
  });

  it('fails with exit 7 and names the line when a recorded decision changes', async () => {
    await writeFile(
      join(dir, 'cases.jsonl'),
      [
        '{"session": "s", "principal": {"id": "agt_1", "name": "coder", "review": "approved"}}',
        '{"session": "s", "tool": "fs.read_file", "args": {"path": "/workspace/a"}, "expect": "allow"}',
        '{"session": "s", "tool": "shell.sudo", "args": {}, "expect": "allow"}',
      ].join('\n'),
    );
    const result = await cli('policy', 'test', EXAMPLES, 'cases.jsonl');
    expect(result.code).toBe(7);
    expect(result.stdout).toContain('cases.jsonl:3');
    expect(result.stdout).toContain('expected allow, got deny');
    expect(result.stdout).toContain('1 passed, 1 failed');
  });

  it('rejects malformed test cases with their line instead of running them', async () => {
    await writeFile(join(dir, 'bad.jsonl'), '{"session": "s", "tool": "x"}\nnot json\n');
    const result = await cli('policy', 'test', EXAMPLES, 'bad.jsonl');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('before its session');
  });

  it('reports compile problems with file and line, exit 2', async () => {
    await writeFile(join(dir, 'bad.yaml'), 'rules:\n  - id: r1\n    tool: x\n    effect: alow\n');
    const result = await cli('policy', 'check', 'bad.yaml');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bad\.yaml:4:\d+: rule `r1`/);
    expect((await cli('policy', 'check', EXAMPLES)).stdout).toMatch(/^ok: \d+ rules in \d+ file/);
  });

  it('explains one call rule by rule, in JSON too', async () => {
    const result = await cli(
      '--json',
      'policy',
      'explain',
      EXAMPLES,
      '--agent',
      'coder',
      '--tool',
      'fs.read_file',
      '--args',
      '{"path": "/etc/passwd"}',
    );
    expect(result.code).toBe(0);
    const explanation = JSON.parse(result.stdout);
    expect(explanation.decision).toMatchObject({ effect: 'deny', code: 'no_matching_rule' });
    expect(explanation.rules).toContainEqual(
      expect.objectContaining({
        ruleId: 'coder-workspace-files',
        outcome: 'not_matched',
        detail: 'args.path',
      }),
    );
    const bad = await cli('policy', 'explain', EXAMPLES, '--tool', 'x', '--args', '[1]');
    expect(bad.code).toBe(2);
  });

  it('lints toxic combinations, and fails in --strict mode', async () => {
    const lint = await cli('--json', 'policy', 'lint', EXAMPLES, '--agent', 'support-bot@support');
    expect(lint.code).toBe(0);
    const report = JSON.parse(lint.stdout);
    // The support bot reads customer PII and may email: reachable, and reported with the rules that allow it.
    expect(report.principals[0].toxic).toContainEqual(
      expect.objectContaining({
        pair: { source: 'reads:pii', sink: 'egress' },
        sink: 'email.send',
        sinkAllowedBy: [expect.objectContaining({ id: 'support-email-customer' })],
      }),
    );
    // Chat after PII is denied by `support-no-pii-to-chat`, so that path is not toxic.
    expect(report.principals[0].toxic).not.toContainEqual(
      expect.objectContaining({ sink: 'slack.post_message' }),
    );
    expect((await cli('policy', 'lint', EXAMPLES, '--agent', 'support-bot@support', '--strict')).code).toBe(
      8,
    );
  });

  it('publishes, activates and lists versions on the store, and diffs a candidate', async () => {
    const published = await cli('policy', 'publish', EXAMPLES, '--activate', '-m', 'first');
    expect(published.stdout).toContain('published version 1 (active)');
    expect((await cli('policy', 'publish', EXAMPLES)).stdout).toContain('unchanged: already version 1');
    const versions = await cli('policy', 'versions');
    expect(versions.stdout).toMatch(/1\s+active/);
    const diff = await cli('policy', 'diff', EXAMPLES);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('0 of 0 recorded call(s)');
    expect((await cli('policy', 'activate', '7')).code).toBe(3);
    expect((await cli('policy', 'shadow')).code).toBe(2);
  });
});
