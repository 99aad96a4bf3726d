/**
 * Last line of defence against orphans: the pids of spawned upstreams, killed when this process exits
 * (`close()` is the normal path; this covers a crash or `process.exit` without it). One `exit` listener for
 * the whole process, however many pools exist.
 */
const children = new Set<number>();
let installed = false;

function killAll(): void {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

export function trackChild(pid: number): void {
  if (!installed) {
    process.once('exit', killAll);
    installed = true;
  }
  children.add(pid);
}

export function untrackChild(pid: number): void {
  children.delete(pid);
}
