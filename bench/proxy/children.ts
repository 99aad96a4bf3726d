/**
 * The server processes of bench/proxy: how they are started, how they say they are ready, and how much CPU
 * they used (from /proc, Linux only).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** The header Gatehouse injects from the vault on every request to the upstream. */
export const UPSTREAM_KEY_HEADER = 'x-bench-key';

/** What the upstream counted (`GET /stats`). */
export interface UpstreamStats {
  sessions: number;
  calls: number;
  /** Echo calls that carried `UPSTREAM_KEY_HEADER` with the vault's value. */
  withKey: number;
  /** Echo calls that carried a Gatehouse capability header. */
  withCapability: number;
}

const READY = 'READY ';

/** Tells the parent the process is serving, with what it needs to know (one line on stdout). */
export function announceReady(info: Record<string, unknown>): void {
  process.stdout.write(`${READY}${JSON.stringify(info)}\n`);
}

export interface Child<Info> {
  name: string;
  pid: number;
  info: Info;
  /** MaxListenersExceededWarning lines it printed (counted, not forwarded: under load they come by thousands). */
  listenerWarnings(): number;
  /** SIGTERM, then waits for the exit (SIGKILL after 20 s). */
  stop(): Promise<void>;
}

/**
 * Runs `script` (TypeScript, through tsx) in a new Node process and waits for its `READY` line. Anything else
 * it prints goes to our stderr, prefixed with its name, except MaxListenersExceededWarning, which is counted.
 */
export function startChild<Info>(
  name: string,
  script: string,
  options: { args?: string[]; nodeArgs?: string[]; env?: Record<string, string> } = {},
): Promise<Child<Info>> {
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', script, ...(options.args ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
  );
  let listenerWarnings = 0;
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (line.includes('MaxListenersExceededWarning')) listenerWarnings += 1;
    else if (!line.includes('node --trace-warnings')) process.stderr.write(`${line}\n`);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${name} did not start within 60 s`));
    }, 60_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before it was ready (code ${code}, signal ${signal})`));
    });
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line.startsWith(READY)) {
        clearTimeout(timer);
        resolve({
          name,
          pid: child.pid ?? 0,
          info: JSON.parse(line.slice(READY.length)) as Info,
          listenerWarnings: () => listenerWarnings,
          stop,
        });
      } else {
        process.stderr.write(`[${name}] ${line}\n`);
      }
    });
  });
}

let ticksPerSecond: number | undefined;

const clockTicks = () => {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
};

/** CPU time the whole machine has been busy so far (all cores and processes), in ms; undefined without /proc. */
export function machineBusyMs(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    // cpu  user nice system idle iowait irq softirq steal ...
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>(
      (sum, value) => sum + (value ?? 0),
      0,
    );
    return (busy * 1000) / clockTicks();
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in ms; undefined where /proc is not available. */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
  } catch {
    return undefined;
  }
}
