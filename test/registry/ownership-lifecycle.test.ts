import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.js';
import { agentsPastOrphanGrace } from '../../src/registry/index.js';
import { api, createTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { STORE_DRIVERS } from '../support/stores.js';

const DAY = 24 * 3600_000;

describe.each(STORE_DRIVERS)('ownership lifecycle on %s', (driver) => {
  let fx: TestGatehouse;
  const clock = createManualClock(Date.UTC(2026, 10, 1));
  beforeEach(async () => {
    fx = await createTestGatehouse({ driver, clock, config: { lifecycle: { orphanGracePeriod: '3d' } } });
    await api(fx, 'POST', '/admin/v1/teams', { name: 'payments' });
    await api(fx, 'POST', '/admin/v1/teams', { name: 'platform' });
    await api(fx, 'POST', '/admin/v1/users', { email: 'alice@example.com', teams: ['payments'] });
    await api(fx, 'POST', '/admin/v1/users', { email: 'carol@example.com', teams: ['platform'] });
    await api(fx, 'POST', '/admin/v1/agents', {
      name: 'bot',
      team: 'payments',
      sponsor: 'alice@example.com',
    });
  });
  afterEach(async () => fx.dispose());

  const agent = async () => (await api(fx, 'GET', '/admin/v1/agents/bot')).body.agent;
  const sweep = async () => (await api(fx, 'POST', '/admin/v1/lifecycle/sweep')).body;

  it('a departing sponsor flags needs_sponsor; an emptied team orphans, then the grace period suspends', async () => {
    await api(fx, 'POST', '/admin/v1/users/alice@example.com/deactivate');
    expect(await agent()).toMatchObject({ needsSponsor: true, orphaned: true, state: 'active' });
    const flagged = await api(fx, 'GET', '/admin/v1/agents?needsSponsor=true');
    expect(flagged.body.agents.map((a: { name: string }) => a.name)).toEqual(['bot']);

    clock.advance(3 * DAY - 1);
    expect((await sweep()).suspended).toEqual([]);
    expect((await agent()).state).toBe('active');
    clock.advance(1);
    const swept = await sweep();
    expect(swept.suspended).toHaveLength(1);
    expect(await agent()).toMatchObject({
      state: 'suspended',
      stateReason: expect.stringContaining('orphaned'),
    });
    // Resuming is refused while nobody owns it; a transfer to a staffed team fixes ownership.
    expect((await api(fx, 'POST', '/admin/v1/agents/bot/resume')).body.code).toBe('invalid_state_transition');
    const moved = await api(fx, 'POST', '/admin/v1/agents/bot/transfer', {
      team: 'platform',
      sponsor: 'carol@example.com',
    });
    expect(moved.body.agent).toMatchObject({
      needsSponsor: false,
      orphaned: false,
      team: { name: 'platform' },
    });
    expect((await api(fx, 'POST', '/admin/v1/agents/bot/resume')).body.agent.state).toBe('active');

    const actions = (await fx.gatehouse.store.audit.list(0, 1000)).map((entry) => entry.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'user.deactivated',
        'agent.needs_sponsor',
        'agent.orphaned',
        'agent.suspended',
        'agent.transferred',
        'agent.resumed',
      ]),
    );
  });

  it('a new active member ends the orphaning before the grace period runs out', async () => {
    await api(fx, 'POST', '/admin/v1/users/alice@example.com/deactivate');
    clock.advance(DAY);
    await api(fx, 'POST', '/admin/v1/teams/payments/members', { user: 'carol@example.com' });
    expect(await agent()).toMatchObject({ orphaned: false, needsSponsor: true });
    clock.advance(10 * DAY);
    expect((await sweep()).suspended).toEqual([]);
    await api(fx, 'POST', '/admin/v1/users/alice@example.com/activate');
    expect((await agent()).needsSponsor).toBe(false);
  });

  it('retired agents are final', async () => {
    await api(fx, 'POST', '/admin/v1/agents/bot/retire', { reason: 'replaced' });
    for (const [path, body] of [
      ['/admin/v1/agents/bot/resume', undefined],
      ['/admin/v1/agents/bot/suspend', {}],
      ['/admin/v1/agents/bot/transfer', { team: 'platform' }],
      ['/admin/v1/agents/bot/manifests', { tools: ['a.b'] }],
    ] as const) {
      expect((await api(fx, 'POST', path, body)).body.code).toBe('invalid_state_transition');
    }
  });
});

describe('agentsPastOrphanGrace', () => {
  it('selects active agents orphaned at least the grace period ago', () => {
    const base = { state: 'active', orphanedAt: 0 } as const;
    const agents = [
      { ...base, id: 'a', orphanedAt: 0 },
      { ...base, id: 'b', orphanedAt: 50 },
      { ...base, id: 'c', orphanedAt: null },
      { ...base, id: 'd', state: 'suspended' as const },
    ];
    // biome-ignore lint/suspicious/noExplicitAny: only the fields the function reads
    expect(agentsPastOrphanGrace(agents as any, 100, 100).map((agent) => agent.id)).toEqual(['a']);
  });
});
