import { createTwoFilesPatch } from 'diff';
import type { DefinitionDiff, ToolDefinition } from './types.js';
import { visibleText } from './visible-text.js';

/** Pretty JSON with keys sorted, so a schema diff shows what changed and not how keys were ordered. */
function stableJson(value: unknown): string {
  const sort = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(sort);
    if (item !== null && typeof item === 'object') {
      return Object.fromEntries(
        Object.keys(item as Record<string, unknown>)
          .sort()
          .map((key) => [key, sort((item as Record<string, unknown>)[key])]),
      );
    }
    return item;
  };
  return `${JSON.stringify(sort(value) ?? null, null, 2)}\n`;
}

const withNewline = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);

function unifiedDiff(label: string, before: string, after: string): string | null {
  if (before === after) return null;
  // Drop the `Index:`/`===` preamble: the two file headers say enough.
  const patch = createTwoFilesPatch(
    `pinned/${label}`,
    `current/${label}`,
    visibleText(before),
    visibleText(after),
    undefined,
    undefined,
    { context: 3 },
  );
  return patch.replace(/^(?:Index:.*\n)?=+\n/, '');
}

/**
 * Unified diffs of a pinned and a current definition: the description as text, the input schema as sorted,
 * indented JSON. Invisible and bidirectional characters are spelled out (`<U+200B>`) so the reviewer sees them.
 */
export function diffDefinitions(pinned: ToolDefinition, current: ToolDefinition): DefinitionDiff {
  return {
    description: unifiedDiff(
      'description',
      withNewline(pinned.description ?? ''),
      withNewline(current.description ?? ''),
    ),
    inputSchema: unifiedDiff('inputSchema', stableJson(pinned.inputSchema), stableJson(current.inputSchema)),
  };
}
