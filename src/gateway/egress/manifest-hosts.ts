import { GatehouseError } from '../../errors/index.js';
import { hostIn } from '../../policy/matchers.js';
import type { Agent } from '../../registry/index.js';
import type { Store } from '../../store/index.js';

/**
 * True when an `egressHosts` list admits `host:port`: an entry is a host (`api.example.com`), a wildcard
 * (`*.example.com`, subdomains only) or either with a port (`api.example.com:8443`); an entry without a port
 * admits any port.
 */
export function manifestAdmits(egressHosts: readonly string[], host: string, port: number): boolean {
  for (const entry of egressHosts) {
    const colon = entry.lastIndexOf(':');
    const pattern = colon === -1 ? entry : entry.slice(0, colon);
    if (colon !== -1 && Number(entry.slice(colon + 1)) !== port) continue;
    if (hostIn(host, [pattern])) return true;
  }
  return false;
}

/**
 * Refuses (`egress_host_not_in_manifest`) a destination the agent's current manifest does not declare, when
 * the manifest declares any egress hosts at all; an agent that declares none is left to policy alone.
 */
export async function checkManifestHosts(
  store: Store,
  agent: Agent,
  host: string,
  port: number,
): Promise<void> {
  if (agent.manifestVersion === null) return;
  const version = await store.manifests.get(agent.id, agent.manifestVersion);
  const hosts = version?.manifest.egressHosts ?? [];
  if (hosts.length === 0 || manifestAdmits(hosts, host, port)) return;
  throw new GatehouseError(
    'egress_host_not_in_manifest',
    `\`${host}:${port}\` is not among the egress hosts of agent \`${agent.name}\`'s manifest (version ${agent.manifestVersion})`,
    { details: { host, port, manifestVersion: agent.manifestVersion } },
  );
}
