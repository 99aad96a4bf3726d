import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CAPABILITY_ERROR_CODES,
  CAPABILITY_HEADER,
  CAPABILITY_META_KEY,
  CAPABILITY_TYP,
} from '../../src/verify/index.js';

const doc = readFileSync(new URL('../../docs/capabilities.md', import.meta.url), 'utf8');

describe('docs/capabilities.md stays true', () => {
  it.each(CAPABILITY_ERROR_CODES)('lists the verifier error `%s` in its table', (code) => {
    expect(doc).toMatch(new RegExp(`^\\|\\s*\`${code}\`\\s*\\|`, 'm'));
  });

  it('names the typ, the header and the _meta key as the code defines them', () => {
    for (const name of [CAPABILITY_TYP, CAPABILITY_HEADER, CAPABILITY_META_KEY])
      expect(doc).toContain(`\`${name}\``);
  });
});
