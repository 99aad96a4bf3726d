import { type FSWatcher, watch } from 'node:fs';
import type { AuditRecorder } from '../audit/index.js';
import { isGatehouseError } from '../errors/index.js';
import { formatPolicyProblem, type PolicyProblem } from '../policy/index.js';
import { readPolicySources } from './bundle-files.js';
import type { PolicyRuntime, PublishResult } from './policy-runtime.js';

const DEBOUNCE_MS = 250;

export type ReloadResult = { ok: true; result: PublishResult } | { ok: false; problems: PolicyProblem[] };

export interface PolicyWatcher {
  /** Reads the path, publishes and activates it if it compiles; otherwise the running bundle stays. */
  reloadNow(): Promise<ReloadResult>;
  close(): void;
}

/**
 * Keeps the active bundle in step with a policy path on disk: at start, on every change (debounced), and never
 * with a bundle that does not compile. Rejections are logged and audited.
 */
export function watchPolicyPath(deps: {
  path: string;
  policies: PolicyRuntime;
  audit: AuditRecorder;
  log: (line: string) => void;
  watch: boolean;
}): PolicyWatcher {
  const { path, policies, audit, log } = deps;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<ReloadResult> | undefined;
  let again = false;

  const reload = async (): Promise<ReloadResult> => {
    try {
      const sources = await readPolicySources(path);
      const result = await policies.publish(sources, {
        actor: 'system',
        message: `loaded from ${path}`,
        activate: true,
      });
      if (!result.unchanged) log(`policy: activated version ${result.version} from ${path}`);
      return { ok: true, result };
    } catch (error) {
      const problems: PolicyProblem[] =
        isGatehouseError(error) && Array.isArray(error.details?.problems)
          ? (error.details.problems as PolicyProblem[])
          : [{ file: path, message: error instanceof Error ? error.message : String(error) }];
      log(`policy: rejected the bundle at ${path}; the running one stays`);
      for (const problem of problems) log(`  ${formatPolicyProblem(problem)}`);
      await audit
        .record({ actor: 'system', action: 'policy.rejected', target: 'policy', details: { path, problems } })
        .catch(() => {});
      return { ok: false, problems };
    }
  };

  // One reload at a time; a change during a reload triggers one more afterwards.
  const reloadNow = async (): Promise<ReloadResult> => {
    if (running) {
      again = true;
      return running;
    }
    running = reload();
    try {
      return await running;
    } finally {
      running = undefined;
      if (again) {
        again = false;
        void reloadNow();
      }
    }
  };

  let watcher: FSWatcher | undefined;
  if (deps.watch) {
    try {
      watcher = watch(path, { recursive: true, persistent: false }, () => {
        clearTimeout(timer);
        timer = setTimeout(() => void reloadNow(), DEBOUNCE_MS);
      });
      watcher.on('error', (error) => log(`policy: watching ${path} failed: ${error.message}`));
    } catch (error) {
      log(`policy: cannot watch ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  return {
    reloadNow,
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
