import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { GatehouseError } from '../../errors/index.js';
import { hostIn } from '../../policy/matchers.js';

/**
 * How far an address is from the public internet:
 * - `public`: global unicast.
 * - `private`: loopback, RFC 1918, carrier-grade NAT, IPv6 unique-local. Allowed by `allowPrivateAddresses`.
 * - `restricted`: link-local (where cloud metadata lives), known metadata addresses, unspecified, multicast,
 *   broadcast, reserved, and IPv6 forms that embed an IPv4 address (NAT64, 6to4, Teredo). Only an
 *   `allowPrivateHosts` entry naming the host lets these through.
 */
export type AddressClass = 'public' | 'private' | 'restricted';

export interface AddressPolicy {
  allowPrivateAddresses: boolean;
  allowPrivateHosts: readonly string[];
}

/** Resolves a host name to its addresses (all of them, in resolver order). */
export type HostLookup = (host: string) => Promise<string[]>;

const PRIVATE_RANGES = new Set(['loopback', 'private', 'carrierGradeNat', 'uniqueLocal']);
// Cloud metadata services outside link-local: AWS over IPv6, Alibaba Cloud.
const METADATA = new Set(['fd00:ec2::254', '100.100.100.200']);

/** Classifies one IP address; anything that does not parse is `restricted`. IPv4-mapped IPv6 is its IPv4. */
export function classifyAddress(address: string): AddressClass {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return 'restricted';
  }
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  if (METADATA.has(parsed.toNormalizedString()) || METADATA.has(parsed.toString())) return 'restricted';
  const range = parsed.range();
  if (range === 'unicast') return 'public';
  return PRIVATE_RANGES.has(range) ? 'private' : 'restricted';
}

/** True when `allowPrivateHosts` names the host (exactly, by `*.suffix`, or `*`). */
export function isExemptHost(host: string, policy: AddressPolicy): boolean {
  return policy.allowPrivateHosts.length > 0 && hostIn(host, policy.allowPrivateHosts);
}

/**
 * Refuses a destination IP literal that is not public, unless allowed (`egress_address_forbidden`). Host names
 * pass here: they are checked once resolved, by `resolveDestination`.
 */
export function checkLiteralDestination(host: string, policy: AddressPolicy): void {
  if (isIP(host) !== 0) checkAddress(host, host, policy);
}

/**
 * The addresses to connect to for `host`, every one of them checked: a host name that resolves to any
 * forbidden address is refused whole, so a resolver that mixes public and private answers gains nothing.
 * The caller connects to these very addresses, never resolving again (no DNS rebinding in between).
 */
export async function resolveDestination(
  host: string,
  policy: AddressPolicy,
  lookup: HostLookup = systemLookup,
): Promise<string[]> {
  let addresses: string[];
  if (isIP(host) !== 0) {
    addresses = [host];
  } else {
    try {
      addresses = [...new Set(await lookup(host))];
    } catch (cause) {
      throw new GatehouseError('egress_unreachable', `host \`${host}\` does not resolve`, { cause });
    }
    if (addresses.length === 0)
      throw new GatehouseError('egress_unreachable', `host \`${host}\` does not resolve`);
  }
  for (const address of addresses) checkAddress(host, address, policy);
  return addresses;
}

function checkAddress(host: string, address: string, policy: AddressPolicy): void {
  const kind = classifyAddress(address);
  if (kind === 'public' || isExemptHost(host, policy)) return;
  if (kind === 'private' && policy.allowPrivateAddresses) return;
  const what =
    kind === 'private' ? 'a private or loopback address' : 'a link-local, metadata or reserved address';
  throw new GatehouseError(
    'egress_address_forbidden',
    host === address ? `\`${host}\` is ${what}` : `host \`${host}\` resolves to ${what}`,
    { details: { host, class: kind } },
  );
}

async function systemLookup(host: string): Promise<string[]> {
  const answers = await dnsLookup(host, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
}
