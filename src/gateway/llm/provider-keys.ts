import { GatehouseError, isGatehouseError } from '../../errors/index.js';
import type { Clock } from '../../lib/clock.js';
import type { Vault } from '../../vault/index.js';
import type { LlmProviderConfig } from './operations.js';

/** A rotated key reaches the gateway within this long, without a vault read and decryption per request. */
const KEY_CACHE_MS = 10_000;
// RFC 9110 field-value characters: a CR or LF would split the header.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]+$/;

export interface ProviderKeys {
  /**
   * The provider's key from the vault; `provider_unavailable` when unusable, its message (for the operator's log,
   * not the agent) naming the secret, never a value.
   */
  keyOf(provider: LlmProviderConfig): Promise<string>;
}

/**
 * Provider keys, revealed from the vault for injection only (bound to the provider's name as an upstream, so a
 * secret bound to an MCP upstream is never sent to an LLM provider), and cached briefly.
 */
export function createProviderKeys(vault: Pick<Vault, 'reveal'>, clock: Clock): ProviderKeys {
  const cache = new Map<string, { key: string; until: number }>();
  return {
    async keyOf(provider) {
      const cached = cache.get(provider.name);
      if (cached && cached.until > clock.now()) return cached.key;
      let key: string;
      try {
        key = await vault.reveal(provider.apiKeySecret, { upstream: provider.name });
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        throw new GatehouseError(
          'provider_unavailable',
          `provider \`${provider.name}\` has no usable key: vault secret \`${provider.apiKeySecret}\` ${
            error.code === 'secret_not_found' ? 'does not exist' : `is refused (${error.code})`
          }`,
          { cause: error, expose: false },
        );
      }
      if (!HEADER_VALUE.test(key)) {
        throw new GatehouseError(
          'provider_unavailable',
          `provider \`${provider.name}\` has no usable key: vault secret \`${provider.apiKeySecret}\` cannot be sent in a header`,
          { expose: false },
        );
      }
      cache.set(provider.name, { key, until: clock.now() + KEY_CACHE_MS });
      return key;
    },
  };
}
