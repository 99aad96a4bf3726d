import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** A real child process the discovery tests look at, ended by `stop()`. */
export interface TestChild {
  pid: number;
  child: ChildProcess;
  /** Everything the child printed on stdout so far. */
  output(): string;
  stop(): Promise<void>;
}

const children = new Set<TestChild>();

/** Starts `command args` with exactly `env` (plus PATH), waiting until it prints `ready` if `waitFor` says so. */
export async function startChild(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; waitFor?: string } = {},
): Promise<TestChild> {
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.resume();
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => resolve());
  });
  if (options.waitFor) {
    const deadline = Date.now() + 10_000;
    while (!stdout.includes(options.waitFor)) {
      if (Date.now() > deadline) throw new Error(`child never printed ${options.waitFor}: ${stdout}`);
      if (child.exitCode !== null) throw new Error(`child exited ${child.exitCode} early: ${stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  const handle: TestChild = {
    pid: child.pid as number,
    child,
    output: () => stdout,
    async stop() {
      children.delete(handle);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
  children.add(handle);
  return handle;
}

/** Ends every child still running (for afterAll). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((child) => child.stop()));
}

/** A provider-key-shaped value nobody has: random, so placeholder filters do not drop it. */
export function fakeKey(prefix: string, length = 40): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let body = '';
  for (const byte of bytes) body += alphabet[byte % alphabet.length];
  return `${prefix}${body}`;
}

/** `node -e <idle>` with trailing arguments that show up on the command line like a script name. */
export const IDLE = 'setTimeout(() => {}, 60000); console.log("ready")';
