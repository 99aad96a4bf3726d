import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Writes `files` (path -> content) under `root`, creating directories. */
export async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

/** `git` in `cwd`, isolated from the machine's own git configuration. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
    },
  });
  return stdout;
}

/** A new repository whose commits are made by the given people. */
export async function initRepo(root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  await git(root, 'init', '-q', '-b', 'main');
}

/** Commits `paths` (default: everything) as `author` ("Name <email>"). */
export async function commitAs(
  root: string,
  author: string,
  message: string,
  paths: string[] = ['-A'],
): Promise<void> {
  const [, name = 'Someone', email = 'someone@example.com'] = /^(.*) <(.*)>$/.exec(author) ?? [];
  await git(root, 'add', ...paths);
  await git(root, '-c', `user.name=${name}`, '-c', `user.email=${email}`, 'commit', '-q', '-m', message);
}
