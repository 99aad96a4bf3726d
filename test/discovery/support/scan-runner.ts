// Runs a scanner in a separate process (started as another user by the tests, so permissions bite even when
// the suite runs as root) and prints its result as JSON on stdout.
import {
  createCatalog,
  defaultDiscoveryConfig,
  scanPaths,
  scanProcesses,
} from '../../../src/discovery/index.js';

const request = JSON.parse(process.argv[2] ?? '{}') as {
  mode: 'paths' | 'processes';
  paths?: string[];
  pids?: number[];
};
const catalog = createCatalog(defaultDiscoveryConfig());
const result =
  request.mode === 'paths'
    ? await scanPaths({ catalog, paths: request.paths ?? [], owners: false })
    : await scanProcesses({ catalog, pids: request.pids ?? [] });
process.stdout.write(JSON.stringify(result));
