import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DelegatedTokenRecord } from '../../src/store/index.js';
import { openTestStore, STORE_DRIVERS, type TestStore } from '../support/stores.js';

const token = (jti: string, overrides: Partial<DelegatedTokenRecord> = {}): DelegatedTokenRecord => ({
  jti,
  parentJti: null,
  rootJti: jti,
  subject: 'usr_alice',
  subjectKind: 'user',
  holder: 'agt_planner',
  audience: 'gatehouse',
  chain: [
    { sub: 'usr_alice', kind: 'user' },
    { sub: 'agt_planner', kind: 'agent' },
  ],
  scope: 'crm.*',
  task: { customer: 'A' },
  parentSession: null,
  viaTool: null,
  issuedAt: 1000,
  expiresAt: 2000,
  ...overrides,
});

describe.each(STORE_DRIVERS)('delegation repository on %s', (driver) => {
  let fixture: TestStore;
  beforeEach(async () => {
    fixture = await openTestStore(driver);
  });
  afterEach(async () => fixture.dispose());

  it('keeps a delegation tree and finds it from its root', async () => {
    const { delegations } = fixture.store;
    await delegations.insertToken(token('at_root'));
    await delegations.insertToken(
      token('at_child', {
        parentJti: 'at_root',
        holder: 'agt_r',
        parentSession: 'ses_1',
        viaTool: 'r.x',
        issuedAt: 1500,
      }),
    );
    await delegations.insertToken(token('at_other'));
    expect(await delegations.findToken('at_child')).toEqual(
      token('at_child', {
        parentJti: 'at_root',
        holder: 'agt_r',
        parentSession: 'ses_1',
        viaTool: 'r.x',
        issuedAt: 1500,
      }),
    );
    expect((await delegations.tokensOfRoot('at_root', 10)).map((row) => row.jti)).toEqual(['at_root']);
    expect(await delegations.findToken('nope')).toBeUndefined();
  });

  it('revokes once, answers which of many are revoked, and forgets expired revocations', async () => {
    const { delegations } = fixture.store;
    const revocation = { jti: 'at_1', revokedAt: 10, expiresAt: 100, revokedBy: 'agent:agt_x', reason: null };
    expect(await delegations.revoke(revocation)).toBe(true);
    expect(await delegations.revoke(revocation)).toBe(false);
    expect(await delegations.revokedAmong(['at_0', 'at_1', 'at_2'])).toEqual(['at_1']);
    expect(await delegations.revokedAmong([])).toEqual([]);
    expect(await delegations.purgeExpiredRevocations(101)).toBe(1);
    expect(await delegations.revokedAmong(['at_1'])).toEqual([]);
  });

  it('links sessions to the tokens that opened them', async () => {
    const { delegations } = fixture.store;
    await delegations.linkSession({ sessionId: 'ses_a', jti: 'at_1', openedAt: 5 });
    await delegations.linkSession({ sessionId: 'ses_b', jti: 'at_2', openedAt: 6 });
    expect(await delegations.sessionToken('ses_a')).toEqual({ sessionId: 'ses_a', jti: 'at_1', openedAt: 5 });
    expect(
      (await delegations.sessionsOfTokens(['at_1', 'at_2', 'at_3'])).map((link) => link.sessionId),
    ).toEqual(['ses_a', 'ses_b']);
  });
});
