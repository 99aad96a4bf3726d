import { Environment } from '@marcbachmann/cel-js';
import { describe, expect, it } from 'vitest';
import { registerMatcherFunctions } from './cel-functions.js';

const env = registerMatcherFunctions(
  new Environment({ homogeneousAggregateLiterals: false }).registerVariable('call', 'map'),
);

function evaluate(expression: string, args: Record<string, unknown>): unknown {
  return env.evaluate(expression, { call: { tool: 'test.tool', args } });
}

describe('registerMatcherFunctions', () => {
  it('returns the environment it was given, with the functions registered', () => {
    const base = new Environment();
    expect(registerMatcherFunctions(base)).toBe(base);
    for (const name of ['email_domain_in', 'host_in', 'cidr_in', 'path_under']) {
      expect(env.check(`${name}(call.args.x, ["a"])`)).toMatchObject({ valid: true, type: 'bool' });
    }
  });

  it('type-checks the second argument as a list', () => {
    expect(env.check('host_in(call.args.url, "example.com")').valid).toBe(false);
    expect(env.check('host_in(call.args.url)').valid).toBe(false);
  });

  describe('host_in', () => {
    it('matches URLs against host patterns', () => {
      const expression = 'host_in(call.args.url, ["*.github.com"])';
      expect(evaluate(expression, { url: 'https://api.github.com/repos/x' })).toBe(true);
      expect(evaluate(expression, { url: 'github.com' })).toBe(false);
      expect(evaluate(expression, { url: 'https://API.GitHub.com./x' })).toBe(true);
    });

    it('resists the host confusion attacks', () => {
      const expression = 'host_in(call.args.url, ["example.com", "*.example.com"])';
      for (const url of [
        'https://example.com@evil.com/',
        'https://evil.com/?x=example.com',
        'example.com.evil.com',
        'evilexample.com',
        'https://evil.com\\@example.com/',
        'https:///example.com',
      ]) {
        expect(evaluate(expression, { url }), url).toBe(false);
        expect(evaluate(`!${expression}`, { url }), url).toBe(true);
      }
      expect(evaluate('host_in(call.args.url, ["::1"])', { url: 'http://[::1]:8080/' })).toBe(true);
    });
  });

  describe('email_domain_in', () => {
    it('holds only when every recipient is inside, so its negation means some recipient is outside', () => {
      const allInternal = 'email_domain_in(call.args.to, ["corp.com", "*.corp.com"])';
      const someExternal = `!${allInternal}`;
      expect(evaluate(allInternal, { to: ['a@corp.com', 'Bob <b@eu.corp.com>'] })).toBe(true);
      expect(evaluate(someExternal, { to: ['a@corp.com', 'Bob <b@eu.corp.com>'] })).toBe(false);
      expect(evaluate(allInternal, { to: ['a@corp.com', 'x@evil.com'] })).toBe(false);
      expect(evaluate(someExternal, { to: ['a@corp.com', 'x@evil.com'] })).toBe(true);
      expect(evaluate(allInternal, { to: 'x@evilcorp.com' })).toBe(false);
      expect(evaluate(allInternal, { to: 'a@evil.com, b@corp.com' })).toBe(false);
    });
  });

  describe('cidr_in', () => {
    it('matches addresses, including IPv4-mapped IPv6', () => {
      const expression = 'cidr_in(call.args.ip, ["10.0.0.0/8", "fd00::/8"])';
      expect(evaluate(expression, { ip: '10.1.2.3' })).toBe(true);
      expect(evaluate(expression, { ip: '::ffff:10.1.2.3' })).toBe(true);
      expect(evaluate(expression, { ip: 'fd00::1' })).toBe(true);
      expect(evaluate(expression, { ip: '8.8.8.8' })).toBe(false);
      expect(evaluate(expression, { ip: '010.1.2.3' })).toBe(false);
    });
  });

  describe('path_under', () => {
    it('normalises before comparing', () => {
      const expression = 'path_under(call.args.path, ["/workspace"])';
      expect(evaluate(expression, { path: '/workspace/src/a.ts' })).toBe(true);
      expect(evaluate(expression, { path: '/workspace' })).toBe(true);
      expect(evaluate(expression, { path: '/workspace/../etc/passwd' })).toBe(false);
      expect(evaluate(expression, { path: '/workspace2/x' })).toBe(false);
      expect(evaluate(expression, { path: '~/workspace' })).toBe(false);
      expect(evaluate(expression, { path: ['/workspace/a', '/etc/passwd'] })).toBe(false);
    });
  });

  it('returns false instead of throwing for odd values', () => {
    const odd: unknown[] = [null, 42n, 1.5, true, { host: 'example.com' }, [], [42n], new Uint8Array([1])];
    for (const name of ['email_domain_in', 'host_in', 'cidr_in', 'path_under']) {
      for (const value of odd) {
        expect(evaluate(`${name}(call.args.v, ["*.example.com", "10.0.0.0/8", "/x"])`, { v: value })).toBe(
          false,
        );
      }
      expect(evaluate(`${name}(call.args.v, call.args.patterns)`, { v: 'x', patterns: [1n, null] })).toBe(
        false,
      );
      expect(evaluate(`${name}(call.args.v, [])`, { v: 'x' })).toBe(false);
    }
  });

  it('ignores invalid or non-string list entries', () => {
    expect(
      evaluate('host_in(call.args.url, [1, "https://x.com", "example.com"])', { url: 'example.com' }),
    ).toBe(true);
    expect(evaluate('cidr_in(call.args.ip, ["nonsense"])', { ip: '10.0.0.1' })).toBe(false);
  });

  it('accepts pattern lists from the context', () => {
    expect(evaluate('host_in(call.args.url, call.args.allowed)', { url: 'a.com', allowed: ['a.com'] })).toBe(
      true,
    );
  });

  it('needs has() to guard an argument that may be missing', () => {
    expect(() => evaluate('host_in(call.args.url, ["a.com"])', {})).toThrow();
    expect(evaluate('has(call.args.url) && host_in(call.args.url, ["a.com"])', {})).toBe(false);
    expect(evaluate('has(call.args.url) && host_in(call.args.url, ["a.com"])', { url: 'a.com' })).toBe(true);
  });
});
