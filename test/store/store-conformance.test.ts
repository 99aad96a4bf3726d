import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainAuditEvents, EMPTY_CHAIN_HEAD, toAuditEvent } from '../../src/audit/chain.js';
import type { Agent, AgentPatch, User } from '../../src/registry/index.js';
import { openPostgresDatabase, type Store, UniqueViolationError } from '../../src/store/index.js';
import { makeAgent, makeTeam, makeUser } from '../support/records.js';
import { openTestStore, STORE_DRIVERS, TEST_POSTGRES_URL, type TestStore } from '../support/stores.js';

const NOW = Date.UTC(2026, 10, 1);

const STAMPED = { createdAt: NOW, updatedAt: NOW };

const user = (id: string, email: string, active = true): User => makeUser({ id, email, active, ...STAMPED });

const agent = (id: string, name: string, teamId: string, sponsorId: string, extra: Partial<Agent> = {}) =>
  makeAgent({ id, name, teamId, sponsorId, labels: { env: 'prod' }, ...STAMPED, ...extra });

async function seed(store: Store) {
  await store.teams.insert(makeTeam({ id: 'team_a', name: 'alpha', description: 'A', ...STAMPED }));
  await store.users.insert(user('usr_1', 'one@example.com'));
  await store.users.insert(user('usr_2', 'two@example.com', false));
  await store.teams.addMember('team_a', 'usr_1', NOW);
  await store.teams.addMember('team_a', 'usr_2', NOW);
  await store.agents.insert(agent('agt_1', 'bot-one', 'team_a', 'usr_1'));
}

// One behaviour, two adapters: every case runs on SQLite and on PostgreSQL.
describe.each(STORE_DRIVERS)('store conformance on %s', (driver) => {
  let fixture: TestStore;
  let store: Store;
  beforeEach(async () => {
    fixture = await openTestStore(driver);
    store = fixture.store;
  });
  afterEach(async () => fixture.dispose());

  it('round-trips teams, users and membership', async () => {
    await seed(store);
    expect(await store.teams.findByName('alpha')).toMatchObject({ id: 'team_a', description: 'A' });
    expect(await store.teams.findById('team_missing')).toBeUndefined();
    expect(await store.users.findByEmail('two@example.com')).toMatchObject({ active: false });
    expect((await store.teams.listMembers('team_a')).map((u) => u.id)).toEqual(['usr_1', 'usr_2']);
    expect(await store.teams.countActiveMembers('team_a')).toBe(1);
    expect(await store.teams.addMember('team_a', 'usr_1', NOW)).toBe(false);
    expect((await store.teams.listTeamsOfUser('usr_1')).map((t) => t.name)).toEqual(['alpha']);
    expect(await store.teams.removeMember('team_a', 'usr_1')).toBe(true);
    expect(await store.teams.countActiveMembers('team_a')).toBe(0);
    expect((await store.users.list({ active: true })).map((u) => u.id)).toEqual(['usr_1']);
  });

  it('refuses duplicate names with a unique violation and keeps the first', async () => {
    await seed(store);
    await expect(
      store.teams.insert(makeTeam({ id: 'team_b', name: 'alpha', ...STAMPED })),
    ).rejects.toBeInstanceOf(UniqueViolationError);
    await expect(store.users.insert(user('usr_3', 'one@example.com'))).rejects.toBeInstanceOf(
      UniqueViolationError,
    );
    await expect(store.agents.insert(agent('agt_2', 'bot-one', 'team_a', 'usr_1'))).rejects.toBeInstanceOf(
      UniqueViolationError,
    );
    expect((await store.teams.list()).map((t) => t.id)).toEqual(['team_a']);
  });

  it('patches agents field by field and filters the inventory', async () => {
    await seed(store);
    await store.agents.insert(agent('agt_2', 'bot-two', 'team_a', 'usr_2', { orphanedAt: NOW - 1000 }));
    const patch: AgentPatch = {
      state: 'suspended',
      stateReason: 'why',
      needsSponsor: true,
      labels: { tier: 'gold' },
      reviewStatus: 'approved',
      reviewedVersion: 3,
    };
    const updated = await store.agents.update('agt_1', patch);
    expect(updated).toMatchObject({ ...patch, name: 'bot-one' });
    expect(await store.agents.update('agt_missing', { state: 'retired' })).toBeUndefined();
    const names = async (filter: Parameters<Store['agents']['list']>[0]) =>
      (await store.agents.list(filter)).map((a) => a.name);
    expect(await names({})).toEqual(['bot-one', 'bot-two']);
    expect(await names({ state: 'suspended' })).toEqual(['bot-one']);
    expect(await names({ needsSponsor: true })).toEqual(['bot-one']);
    expect(await names({ orphaned: true })).toEqual(['bot-two']);
    expect(await names({ orphanedBefore: NOW - 2000 })).toEqual([]);
    expect(await names({ sponsorId: 'usr_2', reviewStatus: 'unreviewed' })).toEqual(['bot-two']);
  });

  it('keeps manifest versions and agent keys', async () => {
    await seed(store);
    const manifest = { description: 'd', tools: ['a.b'], egressHosts: [], llmProviders: [], dataClasses: [] };
    await store.manifests.insert({
      agentId: 'agt_1',
      version: 1,
      manifest,
      digest: 'x',
      createdAt: NOW,
      createdBy: 'me',
    });
    await store.manifests.insert({
      agentId: 'agt_1',
      version: 2,
      manifest: { ...manifest, tools: ['a.c'] },
      digest: 'y',
      createdAt: NOW,
      createdBy: 'me',
    });
    await expect(
      store.manifests.insert({
        agentId: 'agt_1',
        version: 2,
        manifest,
        digest: 'z',
        createdAt: NOW,
        createdBy: 'me',
      }),
    ).rejects.toBeInstanceOf(UniqueViolationError);
    expect((await store.manifests.latest('agt_1'))?.manifest.tools).toEqual(['a.c']);
    expect((await store.manifests.list('agt_1')).map((m) => m.version)).toEqual([1, 2]);
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: 'abc' };
    await store.agentKeys.insert({
      kid: 'k1',
      agentId: 'agt_1',
      alg: 'EdDSA',
      publicJwk: jwk,
      createdAt: NOW,
      revokedAt: null,
    });
    expect(await store.agentKeys.revoke('k1', NOW)).toBe(true);
    expect(await store.agentKeys.revoke('k1', NOW)).toBe(false);
    expect(await store.agentKeys.listByAgent('agt_1')).toEqual([]);
    expect((await store.agentKeys.listByAgent('agt_1', { includeRevoked: true }))[0]?.publicJwk).toEqual(jwk);
  });

  it('records each client-assertion jti once, even under concurrency', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 10 }, () => store.usedAssertions.record('agt_1', 'jti-1', NOW + 60_000)),
    );
    expect(attempts.filter(Boolean)).toHaveLength(1);
    expect(await store.usedAssertions.record('agt_2', 'jti-1', NOW + 60_000)).toBe(true);
    expect(await store.usedAssertions.purgeExpired(NOW + 120_000)).toBe(2);
    expect(await store.usedAssertions.record('agt_1', 'jti-1', NOW + 60_000)).toBe(true);
  });

  it('allows one active signing key only', async () => {
    const key = {
      kid: 'k1',
      alg: 'EdDSA' as const,
      publicJwk: { kty: 'OKP' },
      privateJwkEncrypted: 'sealed',
      status: 'active' as const,
      createdAt: NOW,
      retiredAt: null,
      verifyUntil: null,
    };
    await store.signingKeys.insert(key);
    await expect(store.signingKeys.insert({ ...key, kid: 'k2' })).rejects.toBeInstanceOf(
      UniqueViolationError,
    );
    expect(await store.signingKeys.retire('k1', NOW, NOW + 1000)).toBe(true);
    await store.signingKeys.insert({ ...key, kid: 'k2' });
    expect((await store.signingKeys.findActive())?.kid).toBe('k2');
    expect((await store.signingKeys.find('k1'))?.verifyUntil).toBe(NOW + 1000);
  });

  it('rolls a failed transaction back completely', async () => {
    await seed(store);
    await expect(
      store.transaction(async (tx) => {
        await tx.teams.insert(makeTeam({ id: 'team_b', name: 'beta', ...STAMPED }));
        await tx.agents.update('agt_1', { state: 'retired' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.teams.findByName('beta')).toBeUndefined();
    expect((await store.agents.findById('agt_1'))?.state).toBe('active');
  });

  it('appends concurrent audit batches as one gap-free chain', async () => {
    const event = (n: number) =>
      toAuditEvent({
        time: new Date(NOW + n).toISOString(),
        actor: 'system',
        action: 'test.event',
        target: null,
        details: { n, text: 'ünïcode \u2028 and "quotes"' },
      });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.appendAudit([event(i * 2), event(i * 2 + 1)])),
    );
    const entries = await store.audit.list(0, 1000);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const rechained = chainAuditEvents(EMPTY_CHAIN_HEAD, entries.map(toAuditEvent));
    expect(rechained.map((e) => e.hash)).toEqual(entries.map((e) => e.hash));
    expect(await store.audit.head()).toEqual({ seq: 40, hash: entries.at(-1)?.hash });
    expect(await store.audit.count()).toBe(40);
  });

  it('migrates idempotently', async () => {
    await seed(store);
    const again = await fixture.reopen();
    expect((await again.teams.list()).map((t) => t.name)).toEqual(['alpha']);
    await again.close();
  });
});

describe('postgres adapter', () => {
  it('reports an unreachable server as store_unavailable', async () => {
    const db = openPostgresDatabase({ url: 'postgres://postgres@127.0.0.1:1/none' });
    await expect(db.ping()).rejects.toMatchObject({ code: 'store_unavailable' });
    await db.close();
  });

  it('refuses a schema name that is not an identifier', () => {
    expect(() => openPostgresDatabase({ url: TEST_POSTGRES_URL, schema: 'x; DROP TABLE y' })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }),
    );
  });
});
