import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../src/cli/program.js';
import { ERROR_CODES } from '../src/errors/index.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('user documentation stays true', () => {
  it('docs/errors.md lists every error code with its HTTP status and exit code', () => {
    const doc = read('docs/errors.md');
    for (const [code, { status, exit }] of Object.entries(ERROR_CODES)) {
      expect(doc).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|\\s*${exit}\\s*\\|`));
    }
  });

  it('docs/cli.md names every command', () => {
    const doc = read('docs/cli.md');
    const program = createProgram({ stdout: () => {}, stderr: () => {}, env: {}, cwd: '.' });
    const leaves = (command: Command, prefix: string): string[] =>
      command.commands.length === 0
        ? [prefix]
        : command.commands.flatMap((sub) => leaves(sub, `${prefix} ${sub.name()}`.trim()));
    for (const command of leaves(program, '')) expect(doc).toContain(`gatehouse ${command}`);
  });
});
