import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf } from '../../test/support/errors.js';
import { seedAgent } from '../../test/support/records.js';
import { openTestStore, type TestStore } from '../../test/support/stores.js';
import type { AuditEntry, AuditRecorder } from '../audit/types.js';
import { createManualClock } from '../lib/clock.js';
import type { Agent } from '../registry/types.js';
import type { Store } from '../store/index.js';
import { ACCESS_TOKEN_TYP, issueAccessToken, verifyAccessToken } from './access-tokens.js';
import { createSigningKeyring, type SigningKeyring } from './signing-keyring.js';

const ISSUER = 'https://gatehouse.test';

let fixture: TestStore;
let store: Store;
let clock: ReturnType<typeof createManualClock>;
let agent: Agent;
let keyring: SigningKeyring;

const check = (token: string, overrides: { issuer?: string; audience?: string } = {}) =>
  verifyAccessToken({ keyring, store, token, issuer: ISSUER, audience: 'gatehouse', clock, ...overrides });

const issue = (ttlMs = 120_000) =>
  issueAccessToken({ keyring, agent, issuer: ISSUER, audience: 'gatehouse', ttlMs, clock });

beforeEach(async () => {
  fixture = await openTestStore('sqlite');
  store = fixture.store;
  clock = createManualClock();
  agent = await seedAgent(store);
  const audit: AuditRecorder = { record: async () => ({}) as AuditEntry };
  keyring = createSigningKeyring({
    store,
    masterKey: Buffer.alloc(32, 2),
    clock,
    audit,
    retiredKeyVerifyMs: 60_000,
  });
  await keyring.ensureActiveKey();
});

afterEach(async () => {
  await fixture.dispose();
});

describe('issueAccessToken / verifyAccessToken', () => {
  it('issues and verifies an at+jwt bound to the agent', async () => {
    const issued = await issue();
    expect(issued).toMatchObject({
      token_type: 'Bearer',
      expires_in: 120,
      jti: expect.stringMatching(/^at_/),
    });
    const { agent: found, claims } = await check(issued.access_token);
    expect(found.id).toBe(agent.id);
    expect(claims).toMatchObject({ sub: agent.id, client_id: agent.id, jti: issued.jti, exp: issued.exp });
    expect(claims).not.toHaveProperty('scope');
  });

  it('carries a granted scope when given one', async () => {
    const issued = await issueAccessToken({
      keyring,
      agent,
      issuer: ISSUER,
      audience: 'gatehouse',
      ttlMs: 60_000,
      clock,
      scope: 'mcp',
    });
    expect((await check(issued.access_token)).claims.scope).toBe('mcp');
  });

  it('refuses a wrong issuer or audience', async () => {
    const issued = await issue();
    expect(await codeOf(check(issued.access_token, { issuer: 'https://other' }))).toBe('invalid_token');
    expect(await codeOf(check(issued.access_token, { audience: 'other' }))).toBe('invalid_token');
  });

  it('refuses a gateway-signed JWT that is not typed as an access token (token confusion)', async () => {
    const iat = Math.floor(clock.now() / 1000);
    const claims = { iss: ISSUER, aud: 'gatehouse', sub: agent.id, iat, exp: iat + 60, jti: 'j' };
    expect(await codeOf(check(await keyring.signJwt(claims)))).toBe('invalid_token');
    expect(await codeOf(check(await keyring.signJwt(claims, { typ: 'JWT' })))).toBe('invalid_token');
    expect((await check(await keyring.signJwt(claims, { typ: ACCESS_TOKEN_TYP }))).agent.id).toBe(agent.id);
  });

  it('refuses the live token of an agent that was suspended or retired, or that does not exist', async () => {
    const issued = await issue();
    await store.agents.update(agent.id, { state: 'suspended' });
    expect(await codeOf(check(issued.access_token))).toBe('invalid_token');
    await store.agents.update(agent.id, { state: 'retired' });
    expect(await codeOf(check(issued.access_token))).toBe('invalid_token');
    const iat = Math.floor(clock.now() / 1000);
    const ghost = await keyring.signJwt(
      { iss: ISSUER, aud: 'gatehouse', sub: 'agt_ghost', iat, exp: iat + 60, jti: 'g' },
      { typ: ACCESS_TOKEN_TYP },
    );
    expect(await codeOf(check(ghost))).toBe('invalid_token');
  });

  it('stops verifying once expired', async () => {
    const issued = await issue(60_000);
    clock.advance(61_000);
    expect(await codeOf(check(issued.access_token))).toBe('invalid_token');
  });

  it('refuses empty and oversized tokens before parsing', async () => {
    expect(await codeOf(check(''))).toBe('invalid_token');
    expect(await codeOf(check('a'.repeat(9000)))).toBe('invalid_token');
  });
});
