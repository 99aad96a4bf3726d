import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/gateway/upstreams/backoff.js';
import { namespacedName, splitNamespacedName } from '../../../src/gateway/upstreams/namespaced-name.js';
import { createRedactor, REDACTED } from '../../../src/gateway/upstreams/secret-redactor.js';
import { forEachLine, MAX_STDERR_LINE } from '../../../src/gateway/upstreams/stderr-lines.js';

describe('backoffDelay', () => {
  it('doubles from 250 ms to a 30 s cap, jittered within the upper half of each step', () => {
    const low = (attempt: number) => backoffDelay(attempt, { random: () => 0 });
    const high = (attempt: number) => backoffDelay(attempt, { random: () => 0.999999 });
    expect([0, 1, 2, 3].map(high)).toEqual([250, 500, 1000, 2000]);
    expect([0, 1, 2, 3].map(low)).toEqual([125, 250, 500, 1000]);
    expect(high(20)).toBe(30_000);
    expect(low(20)).toBe(15_000);
    expect(high(5000)).toBe(30_000); // 2^5000 is Infinity: still capped
  });

  it('takes its own bounds', () => {
    expect(backoffDelay(0, { initialMs: 50, maxMs: 200, random: () => 0.999999 })).toBe(50);
    expect(backoffDelay(9, { initialMs: 50, maxMs: 200, random: () => 0.999999 })).toBe(200);
  });
});

describe('namespaced names', () => {
  it('splits at the first dot: upstream names have none, tool names may', () => {
    expect(namespacedName('fs', 'read_file')).toBe('fs.read_file');
    expect(splitNamespacedName('fs.read_file')).toEqual({ upstream: 'fs', name: 'read_file' });
    expect(splitNamespacedName('git.repo.status')).toEqual({ upstream: 'git', name: 'repo.status' });
    for (const bad of ['nodot', '.tool', 'fs.', '']) expect(splitNamespacedName(bad)).toBeUndefined();
  });
});

describe('createRedactor', () => {
  it('replaces every occurrence of each secret, its URL-encoded form, longest first', () => {
    const redact = createRedactor(['s3cr3t/value', 's3cr3t/value-longer']);
    expect(redact('a s3cr3t/value-longer b s3cr3t/value c s3cr3t%2Fvalue')).toBe(
      `a ${REDACTED} b ${REDACTED} c ${REDACTED}`,
    );
  });

  it('ignores values too short to be secrets', () => {
    expect(createRedactor(['1', 'ab'])('1 ab 1')).toBe('1 ab 1');
  });
});

describe('forEachLine', () => {
  it('splits chunks into lines, keeps a final unterminated line, cuts runaway lines', () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    forEachLine(stream, (line) => lines.push(line));
    stream.write('one\ntw');
    stream.write('o\r\nthree\n');
    stream.write('x'.repeat(MAX_STDERR_LINE + 10));
    stream.write('rest of the long line\nlast');
    stream.end();
    return new Promise<void>((resolveEnd) =>
      stream.on('end', () => {
        expect(lines).toEqual(['one', 'two', 'three', `${'x'.repeat(MAX_STDERR_LINE)}…`, 'last']);
        resolveEnd();
      }),
    );
  });
});
