import type { UpstreamConfig } from '../config/index.js';
import { GatehouseError, isGatehouseError } from '../errors/index.js';
import type { Vault } from './types.js';

/** What Gatehouse adds to an upstream: environment variables for a spawned process, or request headers. */
export type UpstreamCredentials = { env: Record<string, string> } | { headers: Record<string, string> };

// RFC 9110 field-value characters: visible ASCII, space, tab and obs-text. A CR or LF would split the header.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Reveals the vault secrets an upstream's configuration references (`secretEnv` for stdio, `secretHeaders` for
 * HTTP) and shapes them for injection. Fails, naming secrets but never values, when any is missing
 * (`secret_not_found`, listing all), bound to another upstream (`secret_upstream_mismatch`), or not sendable as
 * a header (`secret_unusable`).
 */
export async function resolveUpstreamCredentials(
  vault: Pick<Vault, 'reveal'>,
  upstream: UpstreamConfig,
): Promise<UpstreamCredentials> {
  const references =
    upstream.transport === 'stdio'
      ? Object.entries(upstream.secretEnv).map(([target, secret]) => ({ target, secret, prefix: '' }))
      : Object.entries(upstream.secretHeaders).map(([target, { secret, prefix }]) => ({
          target,
          secret,
          prefix,
        }));

  const values = new Map<string, string>();
  const missing: string[] = [];
  for (const { secret } of references) {
    if (values.has(secret) || missing.includes(secret)) continue;
    try {
      values.set(secret, await vault.reveal(secret, { upstream: upstream.name }));
    } catch (error) {
      if (!isGatehouseError(error) || error.code !== 'secret_not_found') throw error;
      missing.push(secret);
    }
  }
  if (missing.length > 0) {
    throw new GatehouseError(
      'secret_not_found',
      `upstream \`${upstream.name}\` needs ${missing.length === 1 ? 'a secret' : 'secrets'} the vault does not ` +
        `hold: ${missing.map((name) => `\`${name}\``).join(', ')} (add with \`gatehouse secrets set\`)`,
      { details: { upstream: upstream.name, secrets: missing } },
    );
  }

  const injected: Record<string, string> = {};
  for (const { target, secret, prefix } of references) {
    const value = `${prefix}${values.get(secret) ?? ''}`;
    if (upstream.transport === 'http' && !HEADER_VALUE.test(value)) {
      throw new GatehouseError(
        'secret_unusable',
        `secret \`${secret}\` cannot be sent in header \`${target}\` to upstream \`${upstream.name}\`: ` +
          'its value has a line break or control character',
        { details: { upstream: upstream.name, secret, header: target } },
      );
    }
    injected[target] = value;
  }
  return upstream.transport === 'stdio' ? { env: injected } : { headers: injected };
}
