import type { FastifyInstance } from 'fastify';
import { scheduleCapabilityRedemptionSweep } from '../capabilities/index.js';
import type { GatehouseConfig } from '../config/index.js';
import { type DiscoverySchedule, scheduleDiscovery } from '../discovery/index.js';
import { type EgressProxy, startEgressProxy } from '../gateway/egress/index.js';
import { createUpstreamPool, type UpstreamPool } from '../gateway/upstreams/index.js';
import type { Clock } from '../lib/clock.js';
import { type PolicyWatcher, watchPolicyPath } from '../policy-runtime/index.js';
import { sweepLifecycle } from '../registry/index.js';
import { resolveUpstreamCredentials } from '../vault/index.js';
import { buildApp } from './app.js';
import { createGatehouse, type Gatehouse } from './create-gatehouse.js';

export interface RunningServer {
  gatehouse: Gatehouse;
  app: FastifyInstance;
  url: string;
  /** The upstream MCP servers this server fronts. */
  upstreams: UpstreamPool;
  /** The egress forward proxy's URL (`HTTP_PROXY`/`HTTPS_PROXY`), when `egress.proxy.enabled`. */
  egressProxyUrl: string | undefined;
  close(): Promise<void>;
}

/** Opens Gatehouse, binds the HTTP server, audits the start, and runs the lifecycle sweep on a timer. */
export async function startServer(
  config: GatehouseConfig,
  options: { clock?: Clock; log?: (line: string) => void } = {},
): Promise<RunningServer> {
  const log = options.log ?? (() => {});
  const gatehouse = await createGatehouse(config, { clock: options.clock, actor: 'system', log });
  let app: FastifyInstance | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;
  let policyWatcher: PolicyWatcher | undefined;
  let upstreams: UpstreamPool | undefined;
  let egressProxy: EgressProxy | undefined;
  let discovery: DiscoverySchedule | undefined;
  const redemptionSweep = scheduleCapabilityRedemptionSweep(gatehouse, { intervalMs: 60_000 });
  const stopTimers = () => {
    clearInterval(sweepTimer);
    clearInterval(refreshTimer);
    policyWatcher?.close();
    redemptionSweep.stop();
    discovery?.stop();
  };
  try {
    for (const warning of gatehouse.warnings) log(`warning: ${warning}`);
    if (!['127.0.0.1', 'localhost', '::1'].includes(config.server.host)) {
      log(
        `warning: listening on ${config.server.host}: the admin API is reachable from the network; put TLS in front`,
      );
    }
    if (config.policy.path) {
      policyWatcher = watchPolicyPath({
        path: config.policy.path,
        policies: gatehouse.policies,
        audit: gatehouse.audit,
        log,
        watch: config.policy.watch,
      });
      await policyWatcher.reloadNow();
    }
    // Versions activated elsewhere (another replica, the CLI) reach this process within one interval.
    refreshTimer = setInterval(
      () =>
        gatehouse.policies
          .refresh()
          .catch((error: unknown) =>
            log(`warning: policy refresh failed: ${error instanceof Error ? error.message : String(error)}`),
          ),
      Math.max(250, config.policy.refreshInterval),
    );
    refreshTimer.unref();
    upstreams = createUpstreamPool({
      upstreams: config.upstreams,
      credentials: (upstream) => resolveUpstreamCredentials(gatehouse.vault, upstream),
      defaultTimeoutMs: config.mcp.callTimeout,
      log,
      clientInfo: { name: 'gatehouse', version: '0.1.0' },
    });
    await upstreams.start();
    for (const status of upstreams.status()) {
      log(
        `upstream ${status.name} (${status.transport}): ${status.state}${status.lastError ? `: ${status.lastError}` : ''}`,
      );
    }
    app = await buildApp(gatehouse, { logLevel: config.server.logLevel, upstreams, log });
    await app.listen({ host: config.server.host, port: config.server.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.server.port;
    const url = `http://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${port}`;
    if (config.egress.proxy.enabled) {
      egressProxy = await startEgressProxy(gatehouse, {
        host: config.egress.proxy.host,
        port: config.egress.proxy.port,
        log,
      });
    }
    await gatehouse.audit.record({
      actor: 'system',
      action: 'server.started',
      target: null,
      details: { url, store: gatehouse.store.kind, pid: process.pid },
    });
    const sweep = () =>
      sweepLifecycle(gatehouse, { orphanGracePeriodMs: config.lifecycle.orphanGracePeriod }).catch(
        (error: unknown) =>
          log(`warning: lifecycle sweep failed: ${error instanceof Error ? error.message : String(error)}`),
      );
    await sweep();
    sweepTimer = setInterval(sweep, Math.max(1000, config.lifecycle.sweepInterval));
    sweepTimer.unref();
    // Off unless `discovery.interval` is set; each run is recorded, new shadows audited and logged.
    discovery = scheduleDiscovery(gatehouse, { log });
    if ((await gatehouse.store.adminTokens.list()).length === 0) {
      log(
        'no admin token exists yet: create one with `gatehouse admin token create --role admin` (same --data-dir)',
      );
    }
    log(`gatehouse listening on ${url} (store: ${gatehouse.store.kind}, data: ${config.dataDir})`);
    const server = app;
    const pool = upstreams;
    return {
      gatehouse,
      app: server,
      url,
      upstreams: pool,
      egressProxyUrl: egressProxy?.url,
      async close() {
        stopTimers();
        await egressProxy?.close();
        await server.close();
        await upstreams?.close();
        await gatehouse.audit
          .record({ actor: 'system', action: 'server.stopped', target: null, details: {} })
          .catch(() => {});
        await gatehouse.close();
      },
    };
  } catch (error) {
    stopTimers();
    await egressProxy?.close().catch(() => {});
    await app?.close().catch(() => {});
    await upstreams?.close().catch(() => {});
    await gatehouse.close().catch(() => {});
    throw error;
  }
}
