import { hostname as osHostname } from 'node:os';
import { type AuditSource, scanTraffic } from './audit-scanner.js';
import { buildReport } from './build-report.js';
import { createCatalog } from './catalog.js';
import type { DiscoveryConfig } from './discovery-config.js';
import { resolveEndpoints } from './endpoints.js';
import { scanPaths } from './fs-scanner.js';
import { scanLogFiles } from './log-scanner.js';
import { scanProcesses } from './proc-scanner.js';
import {
  type DiscoveryReport,
  type DiscoveryScope,
  emptyScanStats,
  type Finding,
  mergeScanStats,
  type ProgressListener,
  type RegisteredAgentSnapshot,
  type ScanStats,
} from './types.js';

export interface RunDiscoveryOptions {
  config: DiscoveryConfig;
  scope: DiscoveryScope;
  /** The registry to compare with; null when offline. */
  registry: readonly RegisteredAgentSnapshot[] | null;
  /** Read for traffic when `scope.traffic` and no `traffic` result is given. */
  audit?: AuditSource;
  /** Traffic findings computed elsewhere (by the server, for a CLI talking to it). */
  traffic?: { findings: Finding[]; stats: ScanStats };
  now: number;
  hostname?: string;
  procRoot?: string;
  /** Look up owners in CODEOWNERS and git history (default true). */
  owners?: boolean;
  onProgress?: ProgressListener;
}

/** Runs the scanners the scope asks for and builds the report. Nothing it meets on the way is fatal. */
export async function runDiscovery(options: RunDiscoveryOptions): Promise<DiscoveryReport> {
  const { config, scope } = options;
  const catalog = createCatalog(config);
  const host = options.hostname ?? osHostname();
  const findings: Finding[] = [];
  const stats = emptyScanStats();
  const warnings: string[] = [];
  const registry = options.registry ?? [];

  if (scope.host) {
    const resolution = await resolveEndpoints(catalog.endpoints, { resolveHosts: config.resolveHosts });
    if (config.resolveHosts && resolution.unresolved.length > 0) {
      warnings.push(
        `${resolution.unresolved.length} provider host names did not resolve (closed network?): connections are matched against configured addresses and the names that did`,
      );
    }
    const scan = await scanProcesses({
      catalog,
      endpoints: resolution.endpoints,
      ...(scope.pids ? { pids: scope.pids } : {}),
      ...(options.procRoot ? { procRoot: options.procRoot } : {}),
      hostname: host,
      onProgress: options.onProgress,
    });
    findings.push(...scan.findings);
    mergeScanStats(stats, scan.stats);
  }
  if (scope.paths.length > 0) {
    const scan = await scanPaths({
      catalog,
      paths: scope.paths,
      exclude: config.exclude,
      maxFileBytes: config.maxFileBytes,
      maxFiles: config.maxFiles,
      owners: options.owners,
      onProgress: options.onProgress,
    });
    for (const path of scan.missing) warnings.push(`path \`${path}\` does not exist or cannot be read`);
    findings.push(...scan.findings);
    mergeScanStats(stats, scan.stats);
  }
  if (scope.logs.length > 0) {
    const scan = await scanLogFiles({
      files: scope.logs,
      registry,
      endpoints: catalog.endpoints,
      onProgress: options.onProgress,
    });
    findings.push(...scan.findings);
    mergeScanStats(stats, scan.stats);
  }
  if (scope.traffic) {
    const scan =
      options.traffic ??
      (options.audit
        ? await scanTraffic({
            audit: options.audit,
            registry,
            endpoints: catalog.endpoints,
            window: config.auditWindow,
            onProgress: options.onProgress,
          })
        : undefined);
    if (scan) {
      findings.push(...scan.findings);
      mergeScanStats(stats, scan.stats);
    }
  }
  return buildReport({
    findings,
    registry: options.registry,
    stats,
    scope,
    host,
    now: options.now,
    warnings,
  });
}
