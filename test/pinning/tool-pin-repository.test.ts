import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObservedTool, ToolHold, ToolPin } from '../../src/gateway/pinning/index.js';
import type { Store } from '../../src/store/index.js';
import { makeAgent, makeTeam, makeUser } from '../support/records.js';
import { openTestStore, STORE_DRIVERS, type TestStore } from '../support/stores.js';

const NOW = Date.UTC(2026, 10, 1);
const STAMPED = { createdAt: NOW, updatedAt: NOW };

const pin = (tool: string, hash: string, extra: Partial<ToolPin> = {}): ToolPin => ({
  agentId: 'agt_1',
  tool,
  upstream: 'acme',
  hash,
  definition: `{"name":"${tool}"}`,
  pinnedAt: NOW,
  pinnedBy: 'user:r',
  ...extra,
});

const observed = (tool: string, hash: string): ObservedTool => ({
  tool,
  upstream: tool.split('.')[0] ?? '',
  hash,
  definition: `{"name":"${tool}","h":"${hash}"}`,
  firstSeenAt: NOW,
  changedAt: NOW,
});

const hold = (hash: string): ToolHold => ({
  agentId: 'agt_1',
  tool: 'acme.lookup',
  upstream: 'acme',
  hash,
  kind: 'changed',
  pinnedHash: 'h0',
  definition: '{}',
  heldAt: NOW,
});

// One behaviour, two adapters.
describe.each(STORE_DRIVERS)('tool pin repository on %s', (driver) => {
  let fixture: TestStore;
  let store: Store;
  beforeEach(async () => {
    fixture = await openTestStore(driver);
    store = fixture.store;
    await store.teams.insert(makeTeam({ id: 'team_a', name: 'alpha', ...STAMPED }));
    await store.users.insert(makeUser({ id: 'usr_1', email: 'one@example.com', ...STAMPED }));
    await store.agents.insert(
      makeAgent({ id: 'agt_1', name: 'bot', teamId: 'team_a', sponsorId: 'usr_1', ...STAMPED }),
    );
  });
  afterEach(async () => fixture.dispose());

  it('keeps a baseline per agent: the first establishment stays, the version moves', async () => {
    expect(await store.toolPins.baseline('agt_1')).toBeUndefined();
    const first = {
      agentId: 'agt_1',
      manifestVersion: 1,
      establishedAt: NOW,
      establishedBy: 'a',
      updatedAt: NOW,
    };
    await store.toolPins.saveBaseline(first);
    await store.toolPins.saveBaseline({
      ...first,
      manifestVersion: 2,
      establishedAt: NOW + 5,
      updatedAt: NOW + 5,
    });
    expect(await store.toolPins.baseline('agt_1')).toEqual({
      ...first,
      manifestVersion: 2,
      updatedAt: NOW + 5,
    });
    expect(await store.toolPins.listBaselines()).toHaveLength(1);
  });

  it('replaces pins by agent and tool, and stores definitions byte for byte', async () => {
    const exact = '{"description":"a\u200Bb","name":"acme.lookup"}';
    await store.toolPins.savePins([pin('acme.lookup', 'h1', { definition: exact }), pin('acme.notes', 'h2')]);
    await store.toolPins.savePins([pin('acme.notes', 'h3', { pinnedBy: 'user:s' })]);
    expect(await store.toolPins.listPins('agt_1')).toEqual([
      pin('acme.lookup', 'h1', { definition: exact }),
      pin('acme.notes', 'h3', { pinnedBy: 'user:s' }),
    ]);
    expect(await store.toolPins.listPins('agt_other')).toEqual([]);
  });

  it('upserts and forgets observed tools', async () => {
    await store.toolPins.saveObserved([
      observed('acme.a', 'h1'),
      observed('acme.b', 'h1'),
      observed('zeta.c', 'h1'),
    ]);
    await store.toolPins.saveObserved([{ ...observed('acme.a', 'h2'), changedAt: NOW + 1 }]);
    expect(await store.toolPins.deleteObserved(['acme.b', 'acme.missing'])).toBe(1);
    expect(await store.toolPins.listObserved()).toEqual([
      { ...observed('acme.a', 'h2'), changedAt: NOW + 1 },
      observed('zeta.c', 'h1'),
    ]);
  });

  it('records a hold once per agent, tool and hash, across store connections', async () => {
    const other = await fixture.reopen();
    expect(await store.toolPins.insertHold(hold('h1'))).toBe(true);
    expect(await other.toolPins.insertHold({ ...hold('h1'), heldAt: NOW + 9 })).toBe(false);
    expect(await other.toolPins.insertHold({ ...hold('h2'), heldAt: NOW + 1 })).toBe(true);
    expect((await store.toolPins.listHolds('agt_1')).map((each) => each.hash)).toEqual(['h2', 'h1']);
    expect(await store.toolPins.listHolds()).toEqual([{ ...hold('h2'), heldAt: NOW + 1 }, hold('h1')]);
  });
});
