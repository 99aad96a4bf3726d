import { describe, expect, it } from 'vitest';
import { capabilityFromRequest } from './capability-from-request.js';
import { CapabilityVerificationError } from './capability-verification-error.js';
import { CAPABILITY_HEADER, CAPABILITY_META_KEY } from './constants.js';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof CapabilityVerificationError ? error.code : String(error);
  }
  return undefined;
};

describe('capabilityFromRequest', () => {
  it('reads the header from Node headers, a plain record in any case, or Fetch Headers', () => {
    expect(capabilityFromRequest({ headers: { [CAPABILITY_HEADER]: 'a.b.c' } })).toBe('a.b.c');
    expect(capabilityFromRequest({ headers: { 'Gatehouse-Capability': ' a.b.c ' } })).toBe('a.b.c');
    expect(capabilityFromRequest({ headers: new Headers({ [CAPABILITY_HEADER]: 'a.b.c' }) })).toBe('a.b.c');
  });

  it('reads the MCP _meta entry, and accepts both when they agree', () => {
    expect(capabilityFromRequest({ meta: { [CAPABILITY_META_KEY]: 'a.b.c' } })).toBe('a.b.c');
    expect(
      capabilityFromRequest({
        headers: { [CAPABILITY_HEADER]: 'a.b.c' },
        meta: { [CAPABILITY_META_KEY]: 'a.b.c' },
      }),
    ).toBe('a.b.c');
  });

  it('returns undefined when there is none', () => {
    expect(capabilityFromRequest({})).toBeUndefined();
    expect(capabilityFromRequest({ headers: { host: 'x' }, meta: { progressToken: 1 } })).toBeUndefined();
    expect(capabilityFromRequest({ headers: { [CAPABILITY_HEADER]: '' } })).toBeUndefined();
  });

  it('refuses two different capabilities, a repeated header and a non-string entry', () => {
    expect(
      codeOf(() =>
        capabilityFromRequest({
          headers: { [CAPABILITY_HEADER]: 'a.b.c' },
          meta: { [CAPABILITY_META_KEY]: 'x.y.z' },
        }),
      ),
    ).toBe('capability_invalid');
    expect(
      codeOf(() => capabilityFromRequest({ headers: { [CAPABILITY_HEADER]: ['a.b.c', 'x.y.z'] } })),
    ).toBe('capability_invalid');
    const joined = new Headers();
    joined.append(CAPABILITY_HEADER, 'a.b.c');
    joined.append(CAPABILITY_HEADER, 'x.y.z');
    expect(codeOf(() => capabilityFromRequest({ headers: joined }))).toBe('capability_invalid');
    expect(codeOf(() => capabilityFromRequest({ meta: { [CAPABILITY_META_KEY]: 42 } }))).toBe(
      'capability_invalid',
    );
  });
});
