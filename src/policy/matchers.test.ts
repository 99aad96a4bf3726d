import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../errors/index.js';
import {
  type ArgConstraint,
  ArgConstraintSchema,
  cidrIn,
  compileArgConstraint,
  emailDomainIn,
  hostIn,
  pathUnder,
} from './matchers.js';

function matcher(spec: unknown) {
  return compileArgConstraint(ArgConstraintSchema.parse(spec));
}

function issuesOf(spec: unknown) {
  const result = ArgConstraintSchema.safeParse(spec);
  if (result.success) throw new Error(`expected ${JSON.stringify(spec)} to be rejected`);
  return result.error.issues.map((issue) => ({ path: issue.path, message: issue.message }));
}

describe('ArgConstraintSchema', () => {
  it('accepts every keyword of the documented example', () => {
    const specs: unknown[] = [
      { email_domain_not_in: ['example.com'] },
      { host_in: ['*.example.com', 'api.github.com'] },
      { cidr_in: ['10.0.0.0/8', 'fd00::/8'] },
      { path_under: ['/workspace'] },
      { one_of: ['USD', 'EUR'] },
      { min: 0, max: 1000 },
      { exclusive_min: 0, exclusive_max: 1000 },
      { schema: { type: 'string', pattern: '^feature/', maxLength: 100 } },
      { present: true },
      { one_of: [1, 'one', true, null] },
    ];
    for (const spec of specs) expect(ArgConstraintSchema.parse(spec)).toEqual(spec);
  });

  it('rejects an empty constraint and unknown keys', () => {
    expect(issuesOf({})).toEqual([
      { path: [], message: 'an argument constraint needs at least one keyword' },
    ]);
    expect(issuesOf({ host_in: ['a.com'], hosts_in: ['b.com'] })[0]?.message).toMatch(/hosts_in/);
    expect(issuesOf({ regex: '.*' })[0]?.message).toMatch(/regex/);
  });

  it('rejects empty lists and wrong element types', () => {
    expect(issuesOf({ host_in: [] })).toEqual([
      { path: ['host_in'], message: 'must list at least one host' },
    ]);
    expect(issuesOf({ one_of: [] })[0]?.path).toEqual(['one_of']);
    expect(issuesOf({ cidr_in: '10.0.0.0/8' })[0]?.path).toEqual(['cidr_in']);
    expect(issuesOf({ one_of: [{ a: 1 }] })[0]?.path).toEqual(['one_of', 0]);
    expect(issuesOf({ min: '5' })[0]?.path).toEqual(['min']);
    expect(issuesOf({ present: 'yes' })[0]?.path).toEqual(['present']);
    expect(issuesOf({ schema: ['type', 'string'] })[0]?.path).toEqual(['schema']);
  });

  it('names the bad entry of a cidr list', () => {
    expect(issuesOf({ cidr_in: ['10.0.0.0/8', '10.0.0.0/33', 'not-an-ip', '010.0.0.0/8'] })).toEqual([
      { path: ['cidr_in', 1], message: '`10.0.0.0/33` has an invalid prefix length' },
      { path: ['cidr_in', 2], message: '`not-an-ip` is not a valid cidr or ip address' },
      { path: ['cidr_in', 3], message: '`010.0.0.0/8` is not a valid cidr or ip address' },
    ]);
    expect(issuesOf({ cidr_not_in: ['::ffff:0:0/64'] })[0]?.message).toMatch(/ipv4-mapped/);
    expect(issuesOf({ cidr_in: ['10.0.0.0/'] })[0]?.message).toMatch(/prefix length/);
  });

  it('rejects relative, home-relative, backslashed and nul path roots', () => {
    for (const root of ['workspace', '~/work', './x', '', '/a\\b', '/a\0b']) {
      expect(issuesOf({ path_under: [root] })[0]?.message).toMatch(/must be an absolute path/);
    }
    expect(issuesOf({ path_not_under: ['/ok', 'rel'] })[0]?.path).toEqual(['path_not_under', 1]);
  });

  it('rejects empty and malformed domains', () => {
    expect(issuesOf({ email_domain_in: [''] })).toEqual([
      { path: ['email_domain_in', 0], message: 'domain must not be empty' },
    ]);
    expect(issuesOf({ email_domain_in: ['user@corp.com'] })[0]?.message).toMatch(/domain only/);
    expect(issuesOf({ email_domain_not_in: ['corp .com'] })[0]?.message).toMatch(/not a valid domain/);
    expect(issuesOf({ email_domain_in: ['corp%2ecom'] })[0]?.message).toMatch(/not a valid domain/);
    expect(issuesOf({ email_domain_in: ['a.*.com'] })[0]?.message).toMatch(/leading label/);
    expect(issuesOf({ email_domain_in: ['*corp.com'] })[0]?.message).toMatch(/leading label/);
    expect(issuesOf({ email_domain_in: ['*'] })[0]?.message).toMatch(/leading label|not a valid/);
  });

  it('rejects host patterns with a scheme, port, path or misplaced wildcard', () => {
    for (const pattern of ['https://example.com', 'example.com:443', 'example.com/x', 'u@example.com']) {
      expect(issuesOf({ host_in: [pattern] })[0]?.message).toMatch(/bare host name/);
    }
    expect(issuesOf({ host_in: ['api.*.com'] })[0]?.message).toMatch(/leading label/);
    expect(issuesOf({ host_in: ['*.10.0.0.1'] })[0]?.message).toMatch(/domain names only/);
    expect(issuesOf({ host_in: ['exa mple.com'] })[0]?.message).toMatch(/not a valid host/);
    expect(issuesOf({ host_not_in: [''] })[0]?.message).toBe('host must not be empty');
  });

  it('accepts IPv6 host patterns with or without brackets', () => {
    expect(ArgConstraintSchema.safeParse({ host_in: ['::1', '[fd00::1]', '*'] }).success).toBe(true);
  });

  it('reports a json schema that does not compile under ajv strict mode', () => {
    const [unknownKeyword] = issuesOf({ schema: { type: 'string', patern: '^x' } });
    expect(unknownKeyword?.path).toEqual(['schema']);
    expect(unknownKeyword?.message).toMatch(/^`schema` does not compile: .*patern/);
    expect(issuesOf({ schema: { type: 'strin' } })[0]?.message).toMatch(/does not compile/);
    expect(issuesOf({ schema: { $ref: 'https://example.com/s.json' } })[0]?.message).toMatch(
      /does not compile/,
    );
    expect(issuesOf({ schema: { $async: true, type: 'string' } })[0]?.message).toMatch(/\$async/);
  });

  it('rejects non-finite numbers', () => {
    expect(issuesOf({ max: Number.POSITIVE_INFINITY })[0]?.path).toEqual(['max']);
    expect(issuesOf({ min: Number.NaN })[0]?.path).toEqual(['min']);
  });
});

describe('compileArgConstraint', () => {
  it('throws a GatehouseError for constraints that skipped validation', () => {
    const bad: unknown[] = [
      {},
      { cidr_in: ['10.0.0.0/40'] },
      { path_under: ['relative'] },
      { host_in: ['https://x.com'] },
      { email_domain_in: [''] },
      { one_of: [] },
      { schema: { type: 'nope' } },
    ];
    for (const spec of bad) {
      expect(() => compileArgConstraint(spec as ArgConstraint)).toThrow(GatehouseError);
    }
    expect(() => compileArgConstraint({ cidr_in: ['10.0.0.0/40'] })).toThrow('`cidr_in`: `10.0.0.0/40`');
  });

  it('lets a missing argument satisfy nothing but present: false', () => {
    const specs: unknown[] = [
      { email_domain_in: ['corp.com'] },
      { email_domain_not_in: ['corp.com'] },
      { host_in: ['*'] },
      { host_not_in: ['example.com'] },
      { cidr_in: ['0.0.0.0/0'] },
      { cidr_not_in: ['10.0.0.0/8'] },
      { path_under: ['/'] },
      { path_not_under: ['/workspace'] },
      { one_of: ['a'] },
      { not_one_of: ['a'] },
      { min: 0 },
      { max: 0 },
      { exclusive_min: 0 },
      { exclusive_max: 0 },
      { schema: {} },
      { present: true },
    ];
    for (const spec of specs) expect(matcher(spec)(undefined)).toBe(false);
    expect(matcher({ present: false })(undefined)).toBe(true);
  });

  it('treats null as absent for present, and as an outside value for the not keywords', () => {
    const present = matcher({ present: true });
    const absent = matcher({ present: false });
    expect([present(null), absent(null)]).toEqual([false, true]);
    for (const value of [0, '', false, [], {}])
      expect([present(value), absent(value)]).toEqual([true, false]);
    expect(matcher({ host_in: ['*'] })(null)).toBe(false);
    expect(matcher({ host_not_in: ['example.com'] })(null)).toBe(true);
  });

  it('requires every keyword of one constraint to hold', () => {
    const amount = matcher({ min: 0, max: 100, not_one_of: [13] });
    expect([amount(0), amount(100), amount(50), amount(13), amount(-1), amount(101)]).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    const url = matcher({ host_in: ['*.example.com'], host_not_in: ['admin.example.com'] });
    expect([url('https://api.example.com/'), url('https://admin.example.com/')]).toEqual([true, false]);
  });

  describe('email domains', () => {
    const internal = matcher({ email_domain_in: ['corp.com', '*.corp.com'] });
    const exactOnly = matcher({ email_domain_in: ['corp.com'] });
    const subdomainsOnly = matcher({ email_domain_in: ['*.corp.com'] });
    const external = matcher({ email_domain_not_in: ['corp.com'] });

    it('matches exact domains case-insensitively, without a trailing dot', () => {
      for (const value of ['a@corp.com', 'A@CORP.COM', 'a@corp.com.', '  a@corp.com ']) {
        expect(exactOnly(value)).toBe(true);
        expect(external(value)).toBe(false);
      }
    });

    it('accepts the display-name form', () => {
      expect(exactOnly('Alice <alice@corp.com>')).toBe(true);
      expect(exactOnly('"Doe, John" <john@corp.com>')).toBe(true);
      expect(exactOnly('<alice@corp.com>')).toBe(true);
      expect(exactOnly('Alice <alice@evil.com>')).toBe(false);
      expect(external('Alice <alice@evil.com>')).toBe(true);
    });

    it('matches subdomains only through a *. pattern', () => {
      expect(exactOnly('a@eu.corp.com')).toBe(false);
      expect(subdomainsOnly('a@eu.corp.com')).toBe(true);
      expect(subdomainsOnly('a@x.eu.corp.com')).toBe(true);
      expect(subdomainsOnly('a@corp.com')).toBe(false);
      expect(internal('a@corp.com')).toBe(true);
      expect(internal('a@eu.corp.com')).toBe(true);
    });

    it('does not match lookalike domains', () => {
      for (const value of [
        'a@evilcorp.com',
        'a@corp.com.evil.com',
        'a@corp.co',
        'a@corp.com@evil.com',
        'a%corp.com@evil.com',
        'a@сorp.com', // Cyrillic "с"
      ]) {
        expect(internal(value)).toBe(false);
        expect(external(value)).toBe(true);
      }
    });

    it('uses the domain after the last @', () => {
      expect(exactOnly('"a@evil.com"@corp.com')).toBe(true);
      expect(exactOnly('"a@corp.com"@evil.com')).toBe(false);
      // an unquoted second @ is ambiguous between parsers
      expect(exactOnly('a@evil.com@corp.com')).toBe(false);
      expect(external('a@evil.com@corp.com')).toBe(true);
    });

    it('treats values that are not a single address as outside', () => {
      for (const value of [
        'corp.com',
        '@corp.com',
        'a@',
        'a@.',
        '',
        'a@corp..com',
        'a@.corp.com',
        'a@evil.com, b@corp.com',
        'a@evil.com;b@corp.com',
        'a@evil.com b@corp.com',
        'a@evil.com\n@corp.com',
        'a@corp.com(comment)',
        'a@[10.0.0.1]',
        'a@corp%2ecom',
        'x@corp.com <a@evil.com>',
        'a@evil.com <b@corp.com>',
        'Alice <a@corp.com> <b@evil.com>',
        'Alice <a@corp.com',
        'a\\@evil.com@corp.com',
      ]) {
        expect(internal(value), value).toBe(false);
        expect(external(value), value).toBe(true);
      }
    });

    it('normalises internationalised domains to punycode', () => {
      const idn = matcher({ email_domain_in: ['bücher.example'] });
      expect(idn('a@xn--bcher-kva.example')).toBe(true);
      expect(idn('a@BÜCHER.example')).toBe(true);
      expect(exactOnly('a@ｃorp.com')).toBe(true); // fullwidth maps to ASCII under IDNA, as mail clients do
    });

    it('requires every recipient inside for _in and any recipient outside for _not_in', () => {
      expect(internal(['a@corp.com', 'b@eu.corp.com'])).toBe(true);
      expect(internal(['a@corp.com', 'b@evil.com'])).toBe(false);
      expect(external(['a@corp.com', 'b@corp.com'])).toBe(false);
      expect(external(['a@corp.com', 'b@evil.com'])).toBe(true);
      expect(external(['a@corp.com', 42])).toBe(true);
      expect(internal(['a@corp.com', 42])).toBe(false);
      expect(internal(['a@corp.com', ['b@corp.com']])).toBe(false);
      expect(internal([])).toBe(false);
      expect(external([])).toBe(true);
    });

    it('never matches non-strings', () => {
      for (const value of [42, true, { email: 'a@corp.com' }, null]) {
        expect(internal(value)).toBe(false);
        expect(external(value)).toBe(true);
      }
    });
  });

  describe('hosts', () => {
    const example = matcher({ host_in: ['*.example.com', 'api.github.com'] });
    const apexOnly = matcher({ host_in: ['example.com'] });
    const notExample = matcher({ host_not_in: ['example.com', '*.example.com'] });

    it('accepts bare hosts, host:port and URLs', () => {
      for (const value of [
        'api.github.com',
        'api.github.com:443',
        'https://api.github.com/repos/x',
        'https://user@www.example.com:8443/path',
        'https://user:pw@www.example.com/',
        'wss://stream.example.com/socket',
        'ssh://git@a.example.com:22/repo.git',
        'http://a.b.example.com',
      ]) {
        expect(example(value), value).toBe(true);
      }
    });

    it('matches the apex only with an exact pattern, and subdomains only with *.', () => {
      expect(apexOnly('example.com')).toBe(true);
      expect(apexOnly('www.example.com')).toBe(false);
      expect(example('example.com')).toBe(false);
      expect(example('https://example.com/')).toBe(false);
      expect(example('github.com')).toBe(false);
    });

    it('is not fooled by userinfo, query strings or lookalike names', () => {
      for (const value of [
        'https://example.com@evil.com/',
        'https://www.example.com@evil.com/',
        'https://evil.com/?x=example.com',
        'https://evil.com/#www.example.com',
        'https://evil.com/www.example.com',
        'example.com.evil.com',
        'www.example.com.evil.com',
        'evilexample.com',
        'https://evilexample.com/',
        'www.example.com@evil.com',
        'https://evil.com\\@www.example.com',
        'https://evil.com\\.example.com',
        'www.example.com/path',
        '//www.example.com',
        'https://www.exam ple.com',
        'https://www.example.com\tx',
        '',
        'https:///www.example.com',
        'https:////www.example.com',
        'mailto:a@www.example.com',
        'file:///etc/passwd',
      ]) {
        expect(example(value), value).toBe(false);
        expect(notExample(value), value).toBe(true);
      }
    });

    it('ignores case and a trailing dot', () => {
      expect(example('HTTPS://WWW.EXAMPLE.COM/')).toBe(true);
      expect(example('WWW.Example.Com')).toBe(true);
      expect(example('www.example.com.')).toBe(true);
      expect(example('https://www.example.com.:443/')).toBe(true);
      expect(apexOnly('example.com.')).toBe(true);
      expect(apexOnly('example.com..')).toBe(false);
    });

    it('normalises IDNA and numeric IPv4 forms like the WHATWG URL parser', () => {
      const loopback = matcher({ host_in: ['127.0.0.1'] });
      expect(loopback('http://0x7f.1/')).toBe(true);
      expect(loopback('0x7f.1')).toBe(true);
      expect(loopback('http://2130706433/')).toBe(true);
      expect(loopback('127.0.0.1:8080')).toBe(true);
      const idn = matcher({ host_in: ['*.bücher.example'] });
      expect(idn('https://www.xn--bcher-kva.example/')).toBe(true);
      expect(idn('www.BÜCHER.example')).toBe(true);
      expect(apexOnly('https://еxample.com/')).toBe(false); // Cyrillic "е"
    });

    it('handles IPv6 literals', () => {
      const local = matcher({ host_in: ['::1'] });
      for (const value of ['[::1]', '[::1]:8080', 'http://[::1]/', 'http://[0:0:0:0:0:0:0:1]:80/', '::1']) {
        expect(local(value), value).toBe(true);
      }
      expect(local('[::2]')).toBe(false);
      expect(matcher({ host_in: ['[fd00::1]'] })('https://[FD00::1]/')).toBe(true);
      expect(example('http://[::1]/')).toBe(false);
    });

    it('lets * match any parseable host but nothing else', () => {
      const any = matcher({ host_in: ['*'] });
      expect(any('anything.invalid')).toBe(true);
      expect(any('http://[::1]/')).toBe(true);
      expect(any('https:///x')).toBe(false);
      expect(any('a b')).toBe(false);
      expect(any(42)).toBe(false);
    });

    it('normalises the host of non-special schemes too', () => {
      expect(example('git://WWW.EXAMPLE.COM./x')).toBe(true);
      expect(example('foo://www.ex%61mple.com/')).toBe(true);
    });

    it('applies every/any to arrays of hosts', () => {
      expect(example(['https://www.example.com/', 'api.github.com'])).toBe(true);
      expect(example(['https://www.example.com/', 'evil.com'])).toBe(false);
      expect(notExample(['https://www.example.com/', 'evil.com'])).toBe(true);
      expect(notExample(['https://www.example.com/', 'example.com'])).toBe(false);
    });
  });

  describe('cidrs', () => {
    const privateNets = matcher({ cidr_in: ['10.0.0.0/8', 'fd00::/8'] });
    const publicOnly = matcher({ cidr_not_in: ['10.0.0.0/8', '127.0.0.0/8', 'fd00::/8', '::1/128'] });

    it('matches IPv4 and IPv6 addresses', () => {
      expect(privateNets('10.1.2.3')).toBe(true);
      expect(privateNets('11.0.0.1')).toBe(false);
      expect(privateNets('fd12:3456::1')).toBe(true);
      expect(privateNets('FD12:3456::1')).toBe(true);
      expect(privateNets('fe80::1')).toBe(false);
      expect(matcher({ cidr_in: ['fe80::/10'] })('fe80::1%eth0')).toBe(true);
      expect(publicOnly('8.8.8.8')).toBe(true);
      expect(publicOnly('10.0.0.1')).toBe(false);
      expect(publicOnly('::1')).toBe(false);
    });

    it('treats IPv4-mapped IPv6 as its IPv4 address', () => {
      for (const value of [
        '::ffff:10.0.0.1',
        '::FFFF:10.0.0.1',
        '::ffff:a00:1',
        '0:0:0:0:0:ffff:0a00:0001',
      ]) {
        expect(privateNets(value), value).toBe(true);
        expect(publicOnly(value), value).toBe(false);
      }
      expect(privateNets('::ffff:11.0.0.1')).toBe(false);
      const mappedPattern = matcher({ cidr_in: ['::ffff:10.0.0.0/104'] });
      expect(mappedPattern('10.9.9.9')).toBe(true);
      expect(mappedPattern('::ffff:10.9.9.9')).toBe(true);
      expect(mappedPattern('11.9.9.9')).toBe(false);
      const mappedHost = matcher({ cidr_in: ['::ffff:10.0.0.1'] });
      expect([mappedHost('10.0.0.1'), mappedHost('10.0.0.2')]).toEqual([true, false]);
    });

    it('accepts a bare address as a single-host cidr', () => {
      const one = matcher({ cidr_in: ['192.168.1.10', '2001:db8::1'] });
      expect([one('192.168.1.10'), one('192.168.1.11'), one('2001:db8:0::1'), one('2001:db8::2')]).toEqual([
        true,
        false,
        true,
        false,
      ]);
    });

    it('refuses ambiguous or malformed addresses', () => {
      for (const value of [
        '010.0.0.1', // octal to some parsers, decimal to others
        '0x0a.0.0.1',
        '10.1',
        '167772161',
        '::ffff:010.0.0.1',
        '1.2.3.04',
        '10.0.0.1 ',
        ' 10.0.0.1',
        '10.0.0.1/32',
        '[fd00::1]',
        '10.0.0.256',
        'localhost',
        '',
      ]) {
        expect(privateNets(value), value).toBe(false);
        expect(publicOnly(value), value).toBe(true);
      }
    });

    it('never matches across families and never throws', () => {
      const v4Only = matcher({ cidr_in: ['0.0.0.0/0'] });
      expect(v4Only('::1')).toBe(false);
      expect(v4Only('1.2.3.4')).toBe(true);
      expect(matcher({ cidr_in: ['::/0'] })('1.2.3.4')).toBe(false);
      expect(v4Only({})).toBe(false);
    });

    it('applies every/any to arrays of addresses', () => {
      expect(privateNets(['10.0.0.1', 'fd00::1'])).toBe(true);
      expect(privateNets(['10.0.0.1', '8.8.8.8'])).toBe(false);
      expect(publicOnly(['10.0.0.1', '8.8.8.8'])).toBe(true);
      expect(publicOnly(['10.0.0.1', '::1'])).toBe(false);
    });
  });

  describe('paths', () => {
    const workspace = matcher({ path_under: ['/workspace', '/tmp/scratch/'] });
    const outside = matcher({ path_not_under: ['/workspace'] });

    it('holds for the root itself and anything below it', () => {
      for (const value of [
        '/workspace',
        '/workspace/',
        '/workspace/a/b.txt',
        '/workspace/./a',
        '/tmp/scratch/x',
      ]) {
        expect(workspace(value), value).toBe(true);
        expect(outside(value)).toBe(value.startsWith('/tmp/'));
      }
      expect(workspace('/workspace/a/../b')).toBe(true);
      expect(workspace('//workspace//a')).toBe(true);
    });

    it('is not fooled by traversal or sibling prefixes', () => {
      for (const value of [
        '/workspace/../etc/passwd',
        '/workspace/a/../../etc',
        '/workspace/..',
        '/workspace2/x',
        '/workspace-old',
        '/work',
        '/',
        '/etc/passwd',
        '/tmp/scratch2',
      ]) {
        expect(workspace(value), value).toBe(false);
      }
      expect(outside('/workspace/../etc/passwd')).toBe(true);
      expect(outside('/workspace2/x')).toBe(true);
    });

    it('never puts relative, home, backslashed or nul paths under a root', () => {
      for (const value of [
        'workspace/a',
        './workspace',
        '../workspace',
        '~/workspace',
        '~',
        '',
        '/workspace/a\0/../../etc',
        '/workspace\\..\\etc',
        '/workspace/a\\b',
      ]) {
        expect(workspace(value), JSON.stringify(value)).toBe(false);
        expect(outside(value), JSON.stringify(value)).toBe(true);
      }
    });

    it('does not decode percent-encoding', () => {
      // `%2e%2e` is a literal directory name to a filesystem, so it stays under the root.
      expect(workspace('/workspace/%2e%2e/etc')).toBe(true);
      expect(workspace('/%77orkspace/a')).toBe(false);
    });

    it('lets / contain every absolute path', () => {
      const root = matcher({ path_under: ['/'] });
      expect([root('/'), root('/etc/passwd'), root('/a/../..'), root('relative')]).toEqual([
        true,
        true,
        true,
        false,
      ]);
    });

    it('applies every/any to arrays of paths', () => {
      expect(workspace(['/workspace/a', '/tmp/scratch/b'])).toBe(true);
      expect(workspace(['/workspace/a', '/etc/passwd'])).toBe(false);
      expect(outside(['/workspace/a', '/etc/passwd'])).toBe(true);
      expect(outside(['/workspace/a', '/workspace/b'])).toBe(false);
    });
  });

  describe('one_of and not_one_of', () => {
    const currency = matcher({ one_of: ['USD', 'EUR'] });
    const notBlocked = matcher({ not_one_of: ['GBP'] });

    it('compares scalars strictly', () => {
      expect([currency('USD'), currency('usd'), currency('GBP'), currency(' USD')]).toEqual([
        true,
        false,
        false,
        false,
      ]);
      const numbers = matcher({ one_of: [1, true, null] });
      expect([numbers(1), numbers('1'), numbers(true), numbers('true'), numbers(null), numbers(0)]).toEqual([
        true,
        false,
        true,
        false,
        true,
        false,
      ]);
      expect(matcher({ one_of: ['1'] })(1)).toBe(false);
      expect(matcher({ one_of: [0] })(-0)).toBe(true);
    });

    it('never matches objects, even equal-looking ones', () => {
      expect(currency({ toString: () => 'USD' })).toBe(false);
      expect(notBlocked({ currency: 'GBP' })).toBe(true);
    });

    it('applies every/any to arrays', () => {
      expect(currency(['USD', 'EUR'])).toBe(true);
      expect(currency(['USD', 'GBP'])).toBe(false);
      expect(currency([])).toBe(false);
      expect(notBlocked(['GBP', 'USD'])).toBe(true);
      expect(notBlocked(['GBP'])).toBe(false);
      expect(notBlocked('GBP')).toBe(false);
      expect(notBlocked('USD')).toBe(true);
    });
  });

  describe('numeric bounds', () => {
    it('applies inclusive and exclusive bounds', () => {
      const inclusive = matcher({ min: 0, max: 1000 });
      expect([inclusive(0), inclusive(1000), inclusive(-0.01), inclusive(1000.5), inclusive(-0)]).toEqual([
        true,
        true,
        false,
        false,
        true,
      ]);
      const exclusive = matcher({ exclusive_min: 0, exclusive_max: 10 });
      expect([exclusive(0), exclusive(10), exclusive(0.001), exclusive(9.999)]).toEqual([
        false,
        false,
        true,
        true,
      ]);
    });

    it('needs one finite number', () => {
      const bounded = matcher({ min: 0 });
      for (const value of ['5', [5], Number.NaN, Number.POSITIVE_INFINITY, null, true, 5n, {}]) {
        expect(bounded(value), String(value)).toBe(false);
      }
      expect(matcher({ max: 0 })(Number.NEGATIVE_INFINITY)).toBe(false);
    });
  });

  describe('json schema', () => {
    const branch = matcher({ schema: { type: 'string', pattern: '^feature/', maxLength: 100 } });

    it('validates with ajv', () => {
      expect(branch('feature/login')).toBe(true);
      expect(branch('main')).toBe(false);
      expect(branch(`feature/${'x'.repeat(100)}`)).toBe(false);
      expect(branch(42)).toBe(false);
      expect(branch(null)).toBe(false);
    });

    it('validates structured values without coercing or mutating them', () => {
      const options = matcher({
        schema: {
          type: 'object',
          properties: { retries: { type: 'integer', default: 3 } },
          required: ['retries'],
          additionalProperties: false,
        },
      });
      const value = { retries: '3' };
      expect(options(value)).toBe(false);
      expect(value).toEqual({ retries: '3' });
      expect(options({ retries: 3 })).toBe(true);
      expect(options({ retries: 3, extra: true })).toBe(false);
    });

    it('keeps schemas with the same $id apart', () => {
      const a = matcher({ schema: { $id: 'https://x/s', type: 'string' } });
      const b = matcher({ schema: { $id: 'https://x/s', type: 'number' } });
      expect([a('s'), a(1), b('s'), b(1)]).toEqual([true, false, false, true]);
    });
  });

  it('makes every not keyword the complement of its positive keyword for present values', () => {
    const pairs: [string, string, string[]][] = [
      ['email_domain_in', 'email_domain_not_in', ['corp.com', '*.corp.com']],
      ['host_in', 'host_not_in', ['*.example.com', '::1']],
      ['cidr_in', 'cidr_not_in', ['10.0.0.0/8', 'fd00::/8']],
      ['path_under', 'path_not_under', ['/workspace']],
      ['one_of', 'not_one_of', ['a@corp.com', '10.0.0.1', '/workspace']],
    ];
    const interesting = fc.constantFrom(
      'a@corp.com',
      'b@x.corp.com',
      'c@evil.com',
      'https://www.example.com/',
      'evil.com',
      '[::1]',
      '10.0.0.1',
      'fd00::1',
      '8.8.8.8',
      '/workspace/a',
      '/etc',
      'relative',
    );
    const value = fc.oneof(
      interesting,
      fc.string(),
      fc.constant(null),
      fc.integer(),
      fc.array(fc.oneof(interesting, fc.string(), fc.integer()), { maxLength: 4 }),
    );
    for (const [positive, negative, patterns] of pairs) {
      const inside = matcher({ [positive]: patterns });
      const outside = matcher({ [negative]: patterns });
      fc.assert(fc.property(value, (v) => outside(v) === !inside(v)));
    }
  });
});

describe('pure helpers', () => {
  it('share the semantics of the compiled keywords', () => {
    expect(emailDomainIn(['a@corp.com', 'B <b@eu.corp.com>'], ['corp.com', '*.corp.com'])).toBe(true);
    expect(emailDomainIn(['a@corp.com', 'b@evil.com'], ['corp.com'])).toBe(false);
    expect(hostIn('https://api.github.com/repos', ['*.github.com'])).toBe(true);
    expect(hostIn('https://github.com@evil.com/', ['github.com', '*.github.com'])).toBe(false);
    expect(cidrIn('::ffff:10.1.2.3', ['10.0.0.0/8'])).toBe(true);
    expect(cidrIn(['10.1.2.3', '8.8.8.8'], ['10.0.0.0/8'])).toBe(false);
    expect(pathUnder('/workspace/src/a.ts', ['/workspace'])).toBe(true);
    expect(pathUnder('/workspace/../etc/passwd', ['/workspace'])).toBe(false);
  });

  it('return false for missing values and empty arrays', () => {
    for (const fn of [emailDomainIn, hostIn, cidrIn, pathUnder]) {
      expect(fn(undefined, ['x'])).toBe(false);
      expect(fn([], ['x'])).toBe(false);
      expect(fn(null, ['x'])).toBe(false);
    }
  });

  it('ignore invalid patterns instead of throwing', () => {
    expect(hostIn('example.com', ['https://example.com', 'example.com'])).toBe(true);
    expect(hostIn('example.com', ['https://example.com'])).toBe(false);
    expect(cidrIn('10.0.0.1', ['nonsense', 42 as unknown as string])).toBe(false);
    expect(pathUnder('/a/b', ['relative', '/a'])).toBe(true);
    expect(emailDomainIn('a@corp.com', [])).toBe(false);
    expect(hostIn('example.com', 'example.com' as unknown as string[])).toBe(false);
  });

  it('give the same answer for a pattern list on every call', () => {
    const patterns = ['*.example.com'];
    for (let i = 0; i < 3; i++) {
      expect(hostIn('www.example.com', patterns)).toBe(true);
      expect(hostIn('example.com', patterns)).toBe(false);
    }
    // lists that only differ in how entries are split must not share a cache entry
    expect(hostIn('a.com', ['a.com', 'b.com'])).toBe(true);
    expect(hostIn('a.com', ['a.com\nb.com'])).toBe(false);
  });

  it('stay correct after the pattern-list cache fills up', () => {
    for (let i = 0; i < 600; i++) expect(hostIn(`h${i}.com`, [`h${i}.com`])).toBe(true);
    expect(hostIn('h1.com', ['h2.com'])).toBe(false);
  });
});
