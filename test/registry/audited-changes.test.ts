import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.js';
import { createTeam, createUser } from '../../src/registry/index.js';
import type { Store } from '../../src/store/index.js';
import { openTestStore, STORE_DRIVERS, type TestStore } from '../support/stores.js';

// A registry change and its audit entries are one transaction: neither is ever stored without the other.
describe.each(STORE_DRIVERS)('registry changes and their audit entries on %s', (driver) => {
  let fixture: TestStore;
  const clock = createManualClock(Date.UTC(2026, 10, 23));
  beforeEach(async () => {
    fixture = await openTestStore(driver);
  });
  afterEach(async () => fixture.dispose());

  it('commit together', async () => {
    const team = await createTeam({ store: fixture.store, clock }, 'cli:test', { name: 'payments' });
    const entries = await fixture.store.audit.list(0, 10);
    expect(entries).toMatchObject([{ seq: 1, actor: 'cli:test', action: 'team.created', target: team.id }]);
    expect(entries[0]?.time).toBe('2026-11-23T00:00:00.000Z');
  });

  it('roll back together when the audit append fails', async () => {
    const failingAudit: Store = {
      ...fixture.store,
      transactionWithAudit: (fn) =>
        fixture.store.transactionWithAudit((tx) =>
          fn({
            ...tx,
            appendAudit: async () => {
              throw new Error('audit disk full');
            },
          }),
        ),
    };
    await expect(
      createUser({ store: failingAudit, clock }, 'cli:test', { email: 'a@example.com' }),
    ).rejects.toThrow('audit disk full');
    expect(await fixture.store.users.findByEmail('a@example.com')).toBeUndefined();
    expect(await fixture.store.audit.count()).toBe(0);
  });
});
