import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf } from '../../test/support/errors.js';
import { seedAgent } from '../../test/support/records.js';
import { openTestStore, type TestStore } from '../../test/support/stores.js';
import type { AuditEntry, AuditRecorder } from '../audit/types.js';
import { createManualClock } from '../lib/clock.js';
import type { Agent } from '../registry/types.js';
import type { Store } from '../store/index.js';
import { type AgentKeyPair, generateAgentKeyPair } from './agent-credentials.js';
import { readClaimedAgentId, verifyClientAssertion } from './client-assertion.js';
import { createSigningKeyring } from './signing-keyring.js';

const ENDPOINT = 'https://gatehouse.test/oauth/token';
const ISSUER = 'https://gatehouse.test';

let fixture: TestStore;
let store: Store;
let clock: ReturnType<typeof createManualClock>;
let agent: Agent;
let keys: AgentKeyPair[];

async function assertion(
  key: AgentKeyPair,
  claims: Record<string, unknown> = {},
  withKid = true,
): Promise<string> {
  const iat = Math.floor(clock.now() / 1000);
  return new SignJWT({
    iss: agent.id,
    sub: agent.id,
    aud: ENDPOINT,
    iat,
    exp: iat + 60,
    jti: randomUUID(),
    ...claims,
  })
    .setProtectedHeader({ alg: key.alg, ...(withKid ? { kid: key.kid } : {}) })
    .sign(await importJWK(key.privateJwk, key.alg));
}

const verify = (token: string, extra: { clientId?: string } = {}) =>
  verifyClientAssertion({
    store,
    clock,
    assertion: token,
    expectedAudiences: [ENDPOINT, ISSUER],
    maxAgeMs: 5 * 60_000,
    clockSkewMs: 30_000,
    ...extra,
  });

beforeEach(async () => {
  fixture = await openTestStore('sqlite');
  store = fixture.store;
  clock = createManualClock();
  agent = await seedAgent(store);
  keys = [await generateAgentKeyPair('ES256'), await generateAgentKeyPair('EdDSA')];
  for (const key of keys) {
    await store.agentKeys.insert({
      kid: key.kid,
      agentId: agent.id,
      alg: key.alg,
      publicJwk: key.publicJwk as Record<string, unknown>,
      createdAt: 0,
      revokedAt: null,
    });
  }
});

afterEach(async () => {
  await fixture.dispose();
});

describe('verifyClientAssertion', () => {
  it('finds the right key among several when the assertion carries no kid', async () => {
    const [, second] = keys;
    if (!second) throw new Error('fixture');
    expect((await verify(await assertion(second, {}, false))).id).toBe(agent.id);
  });

  it('tolerates the configured clock skew on exp, and no more', async () => {
    const token = await assertion(keys[1] as AgentKeyPair);
    clock.advance(80_000); // 20 s past exp, inside the 30 s skew
    expect((await verify(token)).id).toBe(agent.id);
    const late = await assertion(keys[1] as AgentKeyPair);
    clock.advance(100_000); // 40 s past exp
    expect(await codeOf(verify(late))).toBe('invalid_client_assertion');
  });

  it('keeps a burned jti in the ledger until the assertion could no longer pass the exp check', async () => {
    const token = await assertion(keys[1] as AgentKeyPair, { jti: 'once' });
    await verify(token);
    const exp = Math.floor(clock.now() / 1000) + 60;
    expect(await store.usedAssertions.purgeExpired(exp * 1000 + 29_999)).toBe(0);
    expect(await store.usedAssertions.purgeExpired(exp * 1000 + 30_001)).toBe(1);
  });

  it('treats the same jti from two different agents as two assertions', async () => {
    await verify(await assertion(keys[1] as AgentKeyPair, { jti: 'shared' }));
    expect(await store.usedAssertions.record('agt_other', 'shared', clock.now() + 60_000)).toBe(true);
    expect(await codeOf(verify(await assertion(keys[1] as AgentKeyPair, { jti: 'shared' })))).toBe(
      'assertion_replayed',
    );
  });

  it('refuses a retired agent with agent_inactive and a mismatching client_id before any lookup', async () => {
    await store.agents.update(agent.id, { state: 'retired' });
    expect(await codeOf(verify(await assertion(keys[0] as AgentKeyPair)))).toBe('agent_inactive');
    await store.agents.update(agent.id, { state: 'active' });
    expect(await codeOf(verify(await assertion(keys[0] as AgentKeyPair), { clientId: 'agt_2' }))).toBe(
      'invalid_client_assertion',
    );
  });

  it('refuses a JWT signed by the gateway itself (token confusion)', async () => {
    const audit: AuditRecorder = { record: async () => ({}) as AuditEntry };
    const keyring = createSigningKeyring({
      store,
      masterKey: Buffer.alloc(32, 1),
      clock,
      audit,
      retiredKeyVerifyMs: 1,
    });
    await keyring.ensureActiveKey();
    const iat = Math.floor(clock.now() / 1000);
    const ours = await keyring.signJwt({
      iss: agent.id,
      sub: agent.id,
      aud: ENDPOINT,
      iat,
      exp: iat + 60,
      jti: 'x',
    });
    expect(await codeOf(verify(ours))).toBe('invalid_client_assertion');
  });

  it('reads the claimed agent for audit without trusting it, and survives garbage', () => {
    expect(readClaimedAgentId('garbage')).toBeUndefined();
    expect(readClaimedAgentId(`e30.${Buffer.from('{"sub":"agt_9"}').toString('base64url')}.`)).toBe('agt_9');
  });
});
