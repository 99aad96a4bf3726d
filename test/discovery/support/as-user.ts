import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The unprivileged user the permission tests run the scanners as (nobody), when the suite runs as root. */
export const UNPRIVILEGED = { uid: 65534, gid: 65534 };

export const runningAsRoot = process.getuid?.() === 0;

/** Runs support/scan-runner.ts as `nobody` (or as ourselves when not root) and returns its parsed result. */
export async function scanAsUnprivileged<T>(request: Record<string, unknown>): Promise<T> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'test/discovery/support/scan-runner.ts', JSON.stringify(request)],
    {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' },
      timeout: 20_000,
      maxBuffer: 16 * 1024 * 1024,
      ...(runningAsRoot ? UNPRIVILEGED : {}),
    },
  );
  return JSON.parse(stdout) as T;
}
