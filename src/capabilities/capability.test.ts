import type { JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../../test/support/errors.js';
import { createManualClock } from '../lib/clock.js';
import { argsSha256, CAPABILITY_TYP } from '../verify/index.js';
import { mintCapability, sweepCapabilityRedemptions } from './capability.js';

const recordingKeyring = () => {
  const signed: Array<{ payload: JWTPayload; typ: string | undefined }> = [];
  return {
    signed,
    signJwt: async (payload: JWTPayload, options?: { typ?: string }) => {
      signed.push({ payload, typ: options?.typ });
      return 'header.payload.signature';
    },
  };
};

const INPUT = {
  agentId: 'agt_1',
  sessionId: 'ses_1',
  audience: 'tickets',
  tool: 'create',
  args: { b: 1, a: 2 },
};

describe('mintCapability', () => {
  it('signs the claims of one call with the capability typ', async () => {
    const keyring = recordingKeyring();
    const clock = createManualClock(Date.UTC(2026, 0, 1, 12));
    const minted = await mintCapability(
      { keyring, issuer: 'https://gatehouse.test', clock, ttlMs: 30_000 },
      { ...INPUT, act: { sub: 'agt_parent', act: { sub: 'usr_1' } }, userId: 'usr_1' },
    );
    const iat = Date.UTC(2026, 0, 1, 12) / 1000;
    expect(keyring.signed).toEqual([
      {
        typ: CAPABILITY_TYP,
        payload: {
          iss: 'https://gatehouse.test',
          sub: 'agt_1',
          aud: 'tickets',
          iat,
          exp: iat + 30,
          jti: minted.jti,
          sid: 'ses_1',
          tool: 'create',
          args_sha256: argsSha256({ a: 2, b: 1 }),
          act: { sub: 'agt_parent', act: { sub: 'usr_1' } },
          on_behalf_of: 'usr_1',
        },
      },
    ]);
    expect(minted).toMatchObject({
      token: 'header.payload.signature',
      exp: iat + 30,
      argsSha256: argsSha256(INPUT.args),
    });
    expect(minted.jti).toMatch(/^cap_[0-9a-z]{16}$/);
  });

  it('omits act and on_behalf_of when absent and gives every capability its own jti', async () => {
    const keyring = recordingKeyring();
    const deps = { keyring, issuer: 'https://gatehouse.test', clock: createManualClock(), ttlMs: 30_000 };
    const [one, two] = [await mintCapability(deps, INPUT), await mintCapability(deps, INPUT)];
    expect(one?.claims).not.toHaveProperty('act');
    expect(one?.claims).not.toHaveProperty('on_behalf_of');
    expect(one?.jti).not.toBe(two?.jti);
  });

  it('never lives longer than 60 s, and keeps at least its ttl late in a second', async () => {
    const keyring = recordingKeyring();
    const clock = createManualClock(Date.UTC(2026, 0, 1) + 999);
    const capped = await mintCapability({ keyring, issuer: 'i', clock, ttlMs: 10 * 60_000 }, INPUT);
    expect(capped.claims.exp - capped.claims.iat).toBe(60);
    const short = await mintCapability({ keyring, issuer: 'i', clock, ttlMs: 1000 }, INPUT);
    expect(short.exp * 1000 - clock.now()).toBeGreaterThanOrEqual(1000);
  });

  it('refuses arguments with no JSON form', async () => {
    const deps = { keyring: recordingKeyring(), issuer: 'i', clock: createManualClock(), ttlMs: 30_000 };
    expect(await codeOf(mintCapability(deps, { ...INPUT, args: { n: Number.POSITIVE_INFINITY } }))).toBe(
      'invalid_request',
    );
  });
});

describe('sweepCapabilityRedemptions', () => {
  it('deletes what expired before now', async () => {
    const calls: number[] = [];
    const store = {
      capabilityRedemptions: {
        redeem: async () => true,
        deleteExpired: async (before: number) => {
          calls.push(before);
          return 3;
        },
      },
    };
    expect(await sweepCapabilityRedemptions({ store, clock: createManualClock(5_000) })).toBe(3);
    expect(calls).toEqual([5_000]);
  });
});
