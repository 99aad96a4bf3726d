import type { AuditRecorder } from '../audit/index.js';
import type { Clock } from '../lib/clock.js';
import type { Store } from '../store/index.js';
import type { DiscoveryConfig } from './discovery-config.js';
import { recordDiscoveryRun } from './record-run.js';
import { loadRegistrySnapshot } from './registry-snapshot.js';
import { runDiscovery } from './run-discovery.js';
import { applyHistory, toRunRecord } from './run-record.js';
import type { DiscoveryReport } from './types.js';

export interface ServerDiscoveryDeps {
  store: Store;
  clock: Clock;
  audit: AuditRecorder & { flush?: () => Promise<void> };
  config: { discovery: DiscoveryConfig };
}

/**
 * Runs discovery as configured (this host's processes, the configured paths, the audit log's traffic) against the
 * registry in the store, and keeps it in the history: new shadows come back marked new and are audited.
 */
export async function discoverOnServer(
  deps: ServerDiscoveryDeps,
  options: { actor: string; source: 'schedule' | 'api'; hostname?: string },
): Promise<DiscoveryReport> {
  const config = deps.config.discovery;
  const startedAt = deps.clock.now();
  await deps.audit.flush?.();
  const report = await runDiscovery({
    config,
    scope: { host: config.host, pids: null, paths: config.paths, logs: [], traffic: config.traffic },
    registry: await loadRegistrySnapshot(deps.store),
    audit: deps.store.audit,
    now: startedAt,
    ...(options.hostname ? { hostname: options.hostname } : {}),
  });
  const history = await recordDiscoveryRun(
    deps,
    options.actor,
    toRunRecord(report, startedAt),
    options.source,
  );
  return applyHistory(report, history);
}

export interface DiscoverySchedule {
  /** Runs once now (skipped when a run is already going); resolves with its report. */
  runNow(): Promise<DiscoveryReport | undefined>;
  stop(): void;
}

/** Runs `discoverOnServer` every `discovery.interval` (off when 0); overlapping runs are skipped. */
export function scheduleDiscovery(
  deps: ServerDiscoveryDeps,
  options: { log: (line: string) => void; hostname?: string },
): DiscoverySchedule {
  let running: Promise<DiscoveryReport | undefined> | undefined;
  let first = true;
  const runNow = () => {
    if (running) return running;
    running = discoverOnServer(deps, { actor: 'system', source: 'schedule', hostname: options.hostname })
      .then((report) => {
        const fresh = report.candidates.filter(
          (candidate) => candidate.isNew && candidate.registry.status === 'unknown',
        );
        // The first run and runs that found new shadows speak; the rest stay quiet (history has them).
        if (first || fresh.length > 0) options.log(`discovery: ${report.headline}`);
        first = false;
        for (const candidate of fresh) {
          options.log(
            `discovery: new shadow agent ${candidate.name} (${candidate.id}, ${candidate.level} confidence): ${candidate.evidence[0]?.summary ?? ''}`,
          );
        }
        return report;
      })
      .catch((error: unknown) => {
        options.log(`warning: discovery failed: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const interval = deps.config.discovery.interval;
  const timer = interval > 0 ? setInterval(() => void runNow(), Math.max(1000, interval)) : undefined;
  timer?.unref();
  return {
    runNow,
    stop() {
      clearInterval(timer);
    },
  };
}
