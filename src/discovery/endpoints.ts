import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import type { ProviderEndpoint } from './signatures.js';

/** A provider's endpoints with host names resolved: what open connections are compared against. */
export interface ResolvedEndpoint {
  provider: string;
  /** Parsed CIDRs (single addresses as /32 or /128). */
  ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][];
  /** Which host name (or configured address) each range came from, for the evidence. */
  labels: string[];
  ports: number[];
  hosts: string[];
}

export interface EndpointResolution {
  endpoints: ResolvedEndpoint[];
  /** Host names that did not resolve (normal on closed networks; configured addresses still work). */
  unresolved: string[];
}

/** Resolves provider host names with the system resolver (bounded in time) and parses configured addresses. */
export async function resolveEndpoints(
  endpoints: readonly ProviderEndpoint[],
  options: { resolveHosts: boolean; timeoutMs?: number } = { resolveHosts: true },
): Promise<EndpointResolution> {
  const unresolved: string[] = [];
  const resolved = await Promise.all(
    endpoints.map(async (endpoint) => {
      const ranges: ResolvedEndpoint['ranges'] = [];
      const labels: string[] = [];
      for (const address of endpoint.addresses) {
        const range = parseRange(address);
        if (range) {
          ranges.push(range);
          labels.push(address);
        }
      }
      if (options.resolveHosts) {
        const names = endpoint.hosts.filter((host) => !host.includes('*'));
        const results = await Promise.all(names.map((host) => resolveHost(host, options.timeoutMs ?? 2000)));
        results.forEach((addresses, index) => {
          const host = names[index] ?? '';
          if (addresses.length === 0) unresolved.push(host);
          for (const address of addresses) {
            const range = parseRange(address);
            if (range) {
              ranges.push(range);
              labels.push(host);
            }
          }
        });
      }
      return { provider: endpoint.provider, ranges, labels, ports: endpoint.ports, hosts: endpoint.hosts };
    }),
  );
  return { endpoints: resolved, unresolved };
}

async function resolveHost(host: string, timeoutMs: number): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
    });
    const answers = await Promise.race([lookup(host, { all: true }), timeout]);
    return answers.map((answer) => answer.address);
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
  }
}

function parseRange(value: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  try {
    if (value.includes('/')) return ipaddr.parseCIDR(value);
    const address = ipaddr.parse(value);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return undefined;
  }
}

/** The provider endpoint an address and port belong to, if any, with the host name or address it matched. */
export function matchEndpoint(
  endpoints: readonly ResolvedEndpoint[],
  address: string,
  port: number,
): { provider: string; label: string } | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return undefined;
  }
  for (const endpoint of endpoints) {
    if (endpoint.ports.length > 0 && !endpoint.ports.includes(port)) continue;
    for (const [index, range] of endpoint.ranges.entries()) {
      if (parsed.kind() === range[0].kind() && parsed.match(range)) {
        return { provider: endpoint.provider, label: endpoint.labels[index] ?? address };
      }
    }
  }
  return undefined;
}

/** The provider a host name (from a log line or an egress record) belongs to, wildcards included. */
export function providerOfHost(
  endpoints: readonly Pick<ProviderEndpoint, 'provider' | 'hosts'>[],
  host: string,
) {
  const name = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  for (const endpoint of endpoints) {
    for (const pattern of endpoint.hosts) {
      const lowered = pattern.toLowerCase();
      if (lowered === name) return endpoint.provider;
      if (lowered.startsWith('*')) {
        const suffix = lowered.slice(1);
        if (name.endsWith(suffix) && name.length > suffix.length) return endpoint.provider;
      }
      if (lowered.includes('*') && !lowered.startsWith('*')) {
        const [head = '', tail = ''] = lowered.split('*');
        if (name.startsWith(head) && name.endsWith(tail) && name.length > head.length + tail.length)
          return endpoint.provider;
      }
    }
  }
  return undefined;
}
