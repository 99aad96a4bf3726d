import { Ajv, type ValidateFunction } from 'ajv';
import type { UpstreamPort, UpstreamTool } from './ports.js';

export interface CatalogTool extends UpstreamTool {
  /** Checks arguments against the tool's input schema; undefined when the schema could not be compiled. */
  validate: ValidateFunction | undefined;
}

/**
 * The upstream tools with compiled argument validators, cached until an upstream says its list changed.
 * Upstream schemas come from third parties, so ajv runs non-strict: unknown keywords are ignored, not fatal.
 */
export interface ToolCatalog {
  list(): Promise<CatalogTool[]>;
  find(name: string): Promise<CatalogTool | undefined>;
  invalidate(): void;
}

export function createToolCatalog(upstreams: UpstreamPort, log: (line: string) => void): ToolCatalog {
  const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
  let cached: Promise<Map<string, CatalogTool>> | undefined;

  const load = async () => {
    const tools = new Map<string, CatalogTool>();
    for (const tool of await upstreams.listTools()) {
      let validate: ValidateFunction | undefined;
      try {
        validate = ajv.compile(tool.tool.inputSchema);
      } catch (error) {
        log(
          `warning: ${tool.name}: input schema does not compile, arguments go unchecked: ${(error as Error).message}`,
        );
      }
      tools.set(tool.name, { ...tool, validate });
    }
    return tools;
  };

  const current = () => {
    cached ??= load().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };

  upstreams.onToolsChanged(() => {
    cached = undefined;
  });

  return {
    list: async () => [...(await current()).values()],
    find: async (name) => (await current()).get(name),
    invalidate() {
      cached = undefined;
    },
  };
}
