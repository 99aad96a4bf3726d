import { createHash } from 'node:crypto';
import { canonicalJson } from '../../lib/canonical-json.js';
import type { UpstreamTool } from '../upstreams/index.js';
import type { HashedTool, ToolDefinition } from './types.js';

/** The pinned part of an upstream tool: its namespaced name, description and input schema. */
export function toolDefinitionOf(tool: UpstreamTool): ToolDefinition {
  return { name: tool.name, description: tool.tool.description ?? null, inputSchema: tool.tool.inputSchema };
}

/** SHA-256 (hex) of a definition's canonical JSON text. */
export function hashCanonical(canonical: string): string {
  return createHash('sha256').update(canonical).digest('hex');
}

/** A definition with its canonical JSON and hash. */
export function hashDefinition(upstream: string, definition: ToolDefinition): HashedTool {
  const canonical = canonicalJson(definition);
  return { tool: definition.name, upstream, definition, canonical, hash: hashCanonical(canonical) };
}

/** Hashes an upstream tool, remembering the result per tool object: catalogs reuse them until a list changes. */
export function createToolHasher(): (tool: UpstreamTool) => HashedTool {
  const memo = new WeakMap<object, HashedTool>();
  return (tool) => {
    const known = memo.get(tool.tool);
    if (known && known.tool === tool.name) return known;
    const hashed = hashDefinition(tool.upstream, toolDefinitionOf(tool));
    memo.set(tool.tool, hashed);
    return hashed;
  };
}

/** A stored definition (canonical JSON) back as a value; a malformed one reads as an empty definition. */
export function parseDefinition(canonical: string, name: string): ToolDefinition {
  try {
    const value = JSON.parse(canonical) as Partial<ToolDefinition>;
    return {
      name: typeof value.name === 'string' ? value.name : name,
      description: typeof value.description === 'string' ? value.description : null,
      inputSchema: value.inputSchema ?? null,
    };
  } catch {
    return { name, description: null, inputSchema: null };
  }
}
