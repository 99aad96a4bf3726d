import type { DiscoveryConfig } from './discovery-config.js';
import {
  COMMAND_SIGNATURES,
  type CommandSignature,
  DEFAULT_PROVIDER_ENDPOINTS,
  KEY_FORMATS,
  KEY_VARIABLES,
  type KeyFormat,
  type KeyVariable,
  type ProviderEndpoint,
} from './signatures.js';

/** The signatures one run looks for: the built-in ones plus what the configuration adds. */
export interface DiscoveryCatalog {
  keyVariables: readonly KeyVariable[];
  keyFormats: readonly KeyFormat[];
  commands: readonly CommandSignature[];
  endpoints: readonly ProviderEndpoint[];
}

/** Builds the catalog: configured key patterns, commands and endpoints extend the built-in ones. */
export function createCatalog(
  config: Pick<DiscoveryConfig, 'keyPatterns' | 'commandPatterns' | 'providers'>,
): DiscoveryCatalog {
  const keyVariables: KeyVariable[] = [...KEY_VARIABLES];
  const keyFormats: KeyFormat[] = [];
  for (const pattern of config.keyPatterns) {
    for (const name of pattern.env) keyVariables.push({ name, provider: pattern.provider });
    if (pattern.pattern) {
      keyFormats.push({
        kind: pattern.kind,
        provider: pattern.provider,
        pattern: new RegExp(pattern.pattern),
      });
    }
  }
  const commands: CommandSignature[] = [
    ...COMMAND_SIGNATURES,
    ...config.commandPatterns.map((command) => ({
      name: command.name,
      category: command.category,
      token: new RegExp(command.pattern, 'i'),
    })),
  ];
  const endpoints = new Map<string, ProviderEndpoint>(
    DEFAULT_PROVIDER_ENDPOINTS.map((endpoint) => [endpoint.provider, { ...endpoint }]),
  );
  for (const provider of config.providers) {
    const known = endpoints.get(provider.name);
    endpoints.set(provider.name, {
      provider: provider.name,
      hosts: [...new Set([...(known?.hosts ?? []), ...provider.hosts])],
      addresses: [...new Set([...(known?.addresses ?? []), ...provider.addresses])],
      // Configured ports replace the defaults: an internal gateway rarely listens on 443 only.
      ports: provider.ports.length > 0 ? provider.ports : (known?.ports ?? []),
    });
  }
  // Configured formats first: they are usually more specific than the built-in `sk-…` shapes.
  return {
    keyVariables,
    keyFormats: [...keyFormats, ...KEY_FORMATS],
    commands,
    endpoints: [...endpoints.values()],
  };
}
