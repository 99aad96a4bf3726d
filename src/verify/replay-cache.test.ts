import { describe, expect, it } from 'vitest';
import { createMemoryReplayCache } from './replay-cache.js';

describe('createMemoryReplayCache', () => {
  it('accepts a jti once until it expires, then forgets it', () => {
    let now = 1_000;
    const cache = createMemoryReplayCache({ now: () => now });
    expect(cache.add('a', 2_000)).toBe(true);
    expect(cache.has('a')).toBe(true);
    expect(cache.add('a', 2_000)).toBe(false);
    now = 2_000;
    expect(cache.has('a')).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('drops expired entries as new ones arrive, and the oldest when full', () => {
    let now = 0;
    const cache = createMemoryReplayCache({ maxEntries: 3, now: () => now });
    cache.add('a', 100);
    cache.add('b', 100);
    now = 150;
    cache.add('c', 1_000);
    expect(cache.size).toBe(1);
    cache.add('d', 1_000);
    cache.add('e', 1_000);
    cache.add('f', 1_000);
    expect(cache.size).toBe(3);
    expect(cache.has('c')).toBe(false);
    expect(['d', 'e', 'f'].every((jti) => cache.has(jti))).toBe(true);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => createMemoryReplayCache({ maxEntries: 0 })).toThrow(TypeError);
  });
});
