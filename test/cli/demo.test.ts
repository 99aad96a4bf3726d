import { expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';

// The README's first command runs this demo: it must keep working, and keep showing what it claims.
it('runs the gateway demo end to end against real upstreams', async () => {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['demo'], {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: {},
    cwd: process.cwd(),
  });
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(stdout).toMatch(/upstream files \(stdio\): ready, \d+ tools/);
  expect(stdout).toMatch(/upstream outbox \(http\): ready/);
  expect(stdout).toMatch(/ALLOW files\.read_text_file: # Acme research/);
  expect(stdout).toMatch(/DENY {2}files\.write_file: policy_denied/);
  expect(stdout).toMatch(/DENY {2}outbox\.post_message: policy_denied \[no-exfiltration\]/);
  expect(stdout).toContain('DEMO_API_KEY=[redacted]; the real value reached the agent: false');
  expect(stdout).toContain('HTTP 403 agent_inactive');
  expect(stdout).toMatch(/signed checkpoint\(s\) verified: OK/);
  expect(stdout).toMatch(/after editing one entry's reason: FAILED at seq \d+/);
}, 90_000);
