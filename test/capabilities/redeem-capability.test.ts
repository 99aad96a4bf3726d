import { base64url, decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  argsSha256,
  CAPABILITY_TYP,
  type MintCapabilityInput,
  mintCapability,
  redeemCapability,
  sweepCapabilityRedemptions,
} from '../../src/capabilities/index.js';
import { GatehouseError } from '../../src/errors/index.js';
import { ACCESS_TOKEN_TYP } from '../../src/identity/index.js';
import { createManualClock } from '../../src/lib/clock.js';
import type { Gatehouse } from '../../src/server/create-gatehouse.js';
import { openStore } from '../../src/store/index.js';
import { codeOf } from '../support/errors.js';
import { createTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { STORE_DRIVERS } from '../support/stores.js';

const CALL = { agentId: 'agt_1', sessionId: 'ses_1', audience: 'tickets', tool: 'create_ticket' };
const ARGS = { title: 'printer on fire', labels: ['ops', 'urgent'], meta: { floor: 3, room: 'b' } };

describe.each(STORE_DRIVERS)('capabilities on %s', (driver) => {
  let fixture: TestGatehouse;
  let gatehouse: Gatehouse;
  let clock: ReturnType<typeof createManualClock>;

  beforeEach(async () => {
    clock = createManualClock();
    fixture = await createTestGatehouse({ driver, clock });
    gatehouse = fixture.gatehouse;
  });
  afterEach(async () => fixture.dispose());

  const mint = (input: Partial<MintCapabilityInput> = {}) =>
    mintCapability(
      {
        keyring: gatehouse.keyring,
        issuer: gatehouse.issuer,
        clock,
        ttlMs: gatehouse.config.mcp.capabilityTtl,
      },
      { ...CALL, args: ARGS, ...input },
    );
  const redeem = (token: string, expected: Partial<Parameters<typeof redeemCapability>[2]> = {}) =>
    redeemCapability(
      { keyring: gatehouse.keyring, issuer: gatehouse.issuer, clock, store: gatehouse.store },
      token,
      { audience: 'tickets', tool: 'create_ticket', args: ARGS, sessionId: 'ses_1', ...expected },
    );
  const messageOf = (promise: Promise<unknown>) =>
    promise.then(
      () => 'resolved',
      (error: unknown) =>
        error instanceof GatehouseError ? `${error.code}: ${error.message}` : String(error),
    );

  it('mints a signed capability that redeems exactly once', async () => {
    const minted = await mint({ act: { sub: 'agt_parent' } });
    expect(decodeProtectedHeader(minted.token)).toMatchObject({ alg: 'EdDSA', typ: CAPABILITY_TYP });
    expect(decodeJwt(minted.token)).toMatchObject({
      iss: 'http://gatehouse.test',
      sub: 'agt_1',
      aud: 'tickets',
      sid: 'ses_1',
      tool: 'create_ticket',
      args_sha256: argsSha256(ARGS),
      jti: minted.jti,
      act: { sub: 'agt_parent' },
      exp: Math.floor(clock.now() / 1000) + 30,
    });
    const claims = await redeem(minted.token);
    expect(claims.jti).toBe(minted.jti);
    expect(await messageOf(redeem(minted.token))).toBe(
      `capability_replayed: capability \`${minted.jti}\` was already redeemed`,
    );
  });

  it('does not care about argument key order: the hash is over canonical JSON', async () => {
    const { token } = await mint();
    const reordered = { meta: { room: 'b', floor: 3 }, labels: ['ops', 'urgent'], title: 'printer on fire' };
    await expect(redeem(token, { args: reordered })).resolves.toMatchObject({ tool: 'create_ticket' });
  });

  it.each([
    ['another tool', { tool: 'delete_ticket' }, 'for tool `create_ticket`, not `delete_ticket`'],
    ['changed arguments', { args: { ...ARGS, title: 'printer is fine' } }, 'arguments differ'],
    ['reordered array elements', { args: { ...ARGS, labels: ['urgent', 'ops'] } }, 'arguments differ'],
    ['another audience', { audience: 'billing' }, '`aud` check failed'],
    ['another session', { sessionId: 'ses_2' }, 'another session'],
  ])('refuses %s with capability_invalid, without spending it', async (_name, expected, message) => {
    const { token } = await mint();
    const failure = await messageOf(redeem(token, expected));
    expect(failure).toMatch(/^capability_invalid: /);
    expect(failure).toContain(message);
    expect(failure).not.toContain('printer');
    await expect(redeem(token)).resolves.toBeTruthy();
  });

  it('refuses an expired capability', async () => {
    const { token } = await mint();
    clock.advance(gatehouse.config.mcp.capabilityTtl + 1000);
    expect(await messageOf(redeem(token))).toBe('capability_invalid: the capability has expired');
  });

  it('refuses a tampered signature, a tampered payload, alg none and a token from another key', async () => {
    const { token } = await mint();
    const [header, payload, signature = ''] = token.split('.');
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    expect(await messageOf(redeem(`${header}.${payload}.${flipped}`))).toBe(
      'capability_invalid: the capability signature does not verify',
    );

    const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
    const claims = decodeJwt(token);
    const widened = `${header}.${encode({ ...claims, tool: 'delete_ticket' })}.${signature}`;
    expect(await codeOf(redeem(widened, { tool: 'delete_ticket' }))).toBe('capability_invalid');

    const kid = decodeProtectedHeader(token).kid;
    const none = `${encode({ alg: 'none', typ: CAPABILITY_TYP, kid })}.${payload}.`;
    expect(await messageOf(redeem(none))).toBe(
      'capability_invalid: the capability is not signed with `EdDSA`',
    );

    const other = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const sign = (headerKid: string) =>
      new SignJWT({ ...claims, jti: `${claims.jti}_x` })
        .setProtectedHeader({ alg: 'EdDSA', typ: CAPABILITY_TYP, kid: headerKid })
        .sign(other.privateKey);
    expect(await messageOf(redeem(await sign(kid as string)))).toBe(
      'capability_invalid: the capability signature does not verify',
    );
    expect(await messageOf(redeem(await sign('some-other-kid')))).toBe(
      'capability_invalid: the capability names no known signing key',
    );
    expect(await codeOf(redeem('not.a.jwt'))).toBe('capability_invalid');
  });

  it('refuses an access token (at+jwt) carrying capability claims', async () => {
    const { claims } = await mint();
    const accessToken = await gatehouse.keyring.signJwt({ ...claims }, { typ: ACCESS_TOKEN_TYP });
    expect(await messageOf(redeem(accessToken))).toBe(
      "capability_invalid: the capability's `typ` check failed",
    );
  });

  it('lets exactly one of 10 concurrent redemptions of the same capability through', async () => {
    const { token } = await mint();
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => redeem(token)));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const codes = outcomes.flatMap((outcome) =>
      outcome.status === 'rejected' ? [(outcome.reason as GatehouseError).code] : [],
    );
    expect(codes).toEqual(Array(9).fill('capability_replayed'));
  });

  it('is single-use across replicas: another connection to the same database cannot redeem it again', async () => {
    const { token } = await mint();
    const replicaStore = await openStore(gatehouse.config.store, gatehouse.config.dataDir);
    try {
      const viaReplica = () =>
        redeemCapability(
          { keyring: gatehouse.keyring, issuer: gatehouse.issuer, clock, store: replicaStore },
          token,
          { audience: 'tickets', tool: 'create_ticket', args: ARGS },
        );
      const outcomes = await Promise.allSettled([
        ...Array.from({ length: 5 }, () => redeem(token)),
        ...Array.from({ length: 5 }, viaReplica),
      ]);
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      expect(await codeOf(viaReplica())).toBe('capability_replayed');
    } finally {
      await replicaStore.close();
    }
  });

  it('sweeps redemption records once their capabilities can no longer verify', async () => {
    const { token } = await mint();
    await redeem(token);
    const sweep = () => sweepCapabilityRedemptions({ store: gatehouse.store, clock });
    expect(await sweep()).toBe(0);
    clock.advance(gatehouse.config.mcp.capabilityTtl + 1000);
    expect(await sweep()).toBe(1);
  });
});
