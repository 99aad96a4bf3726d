import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { argsSha256 } from './args-sha256.js';

describe('argsSha256', () => {
  it('is base64url SHA-256 of the RFC 8785 canonical JSON', () => {
    const expected = createHash('sha256').update('{"a":[1,"x",null],"b":2}').digest('base64url');
    expect(argsSha256({ b: 2, a: [1, 'x', null] })).toBe(expected);
    expect(argsSha256({ b: 2, a: [1, 'x', null] })).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('ignores key order at every depth and number spelling, but not values or array order', () => {
    const one = { repo: 'acme/api', options: { draft: true, labels: ['a', 'b'] }, n: 1 };
    const two = JSON.parse('{"n":1.0,"options":{"labels":["a","b"],"draft":true},"repo":"acme/api"}');
    expect(argsSha256(two)).toBe(argsSha256(one));
    expect(argsSha256({ ...one, n: 2 })).not.toBe(argsSha256(one));
    expect(argsSha256({ ...one, options: { draft: true, labels: ['b', 'a'] } })).not.toBe(argsSha256(one));
  });

  it('hashes absent arguments like an empty object, and refuses what JSON cannot carry', () => {
    expect(argsSha256(undefined)).toBe(argsSha256({}));
    expect(argsSha256(null)).not.toBe(argsSha256({}));
    expect(() => argsSha256({ n: Number.NaN })).toThrow();
    expect(() => argsSha256({ n: 1n })).toThrow();
  });
});
