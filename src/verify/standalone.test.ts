import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('./', import.meta.url);
const sources = readdirSync(dir).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));

describe('gatehouse/verify stays standalone', () => {
  it.each(sources)('%s imports only jose, canonicalize, node:* and its own folder', (name) => {
    const text = readFileSync(new URL(name, dir), 'utf8');
    const specifiers = [...text.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'/g)].map(
      (match) => match[1] ?? match[2],
    );
    for (const specifier of specifiers) {
      expect(specifier).toMatch(/^(jose|canonicalize|node:[a-z_/]+|\.\/[a-z0-9-]+\.js)$/);
    }
  });
});
