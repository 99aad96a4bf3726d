import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyStoredAudit } from '../src/audit/index.js';
import { api, createTestGatehouse, type TestGatehouse } from './support/gatehouse.js';

const ED25519_PUBLIC_JWK = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };

async function seedRegistry(fx: TestGatehouse) {
  expect((await api(fx, 'POST', '/admin/v1/teams', { name: 'payments' })).status).toBe(201);
  expect(
    (await api(fx, 'POST', '/admin/v1/users', { email: 'Alice@Example.com', teams: ['payments'] })).status,
  ).toBe(201);
  expect((await api(fx, 'POST', '/admin/v1/users', { email: 'bob@example.com' })).status).toBe(201);
  const registered = await api(fx, 'POST', '/admin/v1/agents', {
    name: 'invoice-bot',
    team: 'payments',
    sponsor: 'alice@example.com',
    manifest: { tools: ['erp.create_invoice', 'files.read_file'] },
  });
  expect(registered.status).toBe(201);
  return registered.body;
}

async function auditState(fx: TestGatehouse) {
  await fx.gatehouse.audit.flush();
  return { head: await fx.gatehouse.store.audit.head(), count: await fx.gatehouse.store.audit.count() };
}

async function expectChainValid(fx: TestGatehouse) {
  await fx.gatehouse.audit.flush();
  const report = await verifyStoredAudit({
    store: fx.gatehouse.store,
    jwks: await fx.gatehouse.keyring.publicJwks(),
  });
  expect(report.ok).toBe(true);
}

describe('admin API', () => {
  let fx: TestGatehouse;
  beforeEach(async () => {
    fx = await createTestGatehouse();
  });
  afterEach(async () => fx.dispose());

  it('registers an agent with generated credentials shown once and the inventory counts', async () => {
    const registered = await seedRegistry(fx);
    expect(registered.agent).toMatchObject({
      name: 'invoice-bot',
      reviewStatus: 'unreviewed',
      state: 'active',
      team: { name: 'payments' },
      sponsor: { email: 'alice@example.com' },
      manifestVersion: 1,
    });
    expect(registered.agent.id).toMatch(/^agt_[0-9a-z]{16}$/);
    expect(registered.credentials.privateKeyPem).toContain('PRIVATE KEY');
    // Only the public half is stored or shown again.
    const shown = await api(fx, 'GET', `/admin/v1/agents/${registered.agent.id}`);
    expect(JSON.stringify(shown.body)).not.toContain('PRIVATE');
    expect(shown.body.keys[0].publicJwk.d).toBeUndefined();
    const inventory = await api(fx, 'GET', '/admin/v1/agents');
    expect(inventory.body.summary).toMatchObject({ total: 1, approved: 0, unreviewed: 1 });
    await expectChainValid(fx);
  });

  it('accepts a registered public key instead of generating one', async () => {
    await seedRegistry(fx);
    const response = await api(fx, 'POST', '/admin/v1/agents', {
      name: 'own-key-bot',
      team: 'payments',
      sponsor: 'alice@example.com',
      publicKey: ED25519_PUBLIC_JWK,
    });
    expect(response.status).toBe(201);
    expect(response.body.credentials).toBeNull();
    const privateKey = { ...ED25519_PUBLIC_JWK, d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A' };
    const refused = await api(fx, 'POST', '/admin/v1/agents', {
      name: 'leaky-bot',
      team: 'payments',
      sponsor: 'alice@example.com',
      publicKey: privateKey,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('invalid_public_key');
  });

  it('runs the review rule: new version resets review; the sponsor may not approve', async () => {
    const { agent } = await seedRegistry(fx);
    const bySponsor = await api(fx, 'POST', `/admin/v1/agents/${agent.id}/review`, {
      decision: 'approve',
      reviewer: 'alice@example.com',
    });
    expect(bySponsor.status).toBe(403);
    expect(bySponsor.body.code).toBe('reviewer_is_sponsor');
    const noReviewer = await api(fx, 'POST', `/admin/v1/agents/${agent.id}/review`, { decision: 'approve' });
    expect(noReviewer.body.code).toBe('reviewer_required');
    const reviewerToken = await api(fx, 'POST', '/admin/v1/admin-tokens', {
      role: 'reviewer',
      user: 'bob@example.com',
    });
    const approved = await api(
      fx,
      'POST',
      `/admin/v1/agents/${agent.id}/review`,
      { decision: 'approve', note: 'ok' },
      reviewerToken.body.secret,
    );
    expect(approved.status).toBe(200);
    expect(approved.body.agent).toMatchObject({
      reviewStatus: 'approved',
      reviewedVersion: 1,
      reviewedBy: { email: 'bob@example.com' },
    });
    const same = await api(fx, 'POST', `/admin/v1/agents/${agent.id}/manifests`, {
      tools: ['files.read_file', 'erp.create_invoice'],
    });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ created: false, agent: { reviewStatus: 'approved' } });
    const pushed = await api(fx, 'POST', `/admin/v1/agents/${agent.id}/manifests`, {
      tools: ['files.read_file', 'http.post'],
      egressHosts: ['*.example.com'],
    });
    expect(pushed.status).toBe(201);
    expect(pushed.body.agent).toMatchObject({ reviewStatus: 'unreviewed', manifestVersion: 2 });
    expect(pushed.body.diff.tools).toEqual({ added: ['http.post'], removed: ['erp.create_invoice'] });
    const diff = await api(fx, 'GET', `/admin/v1/agents/${agent.id}/manifest-diff?from=1&to=2`);
    expect(diff.body.diff.egressHosts.added).toEqual(['*.example.com']);
    // A reviewer token may review but not administer.
    const forbidden = await api(
      fx,
      'POST',
      `/admin/v1/agents/${agent.id}/suspend`,
      {},
      reviewerToken.body.secret,
    );
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('forbidden');
    await expectChainValid(fx);
  });

  it('enforces roles and refuses anonymous or revoked callers', async () => {
    await seedRegistry(fx);
    expect((await api(fx, 'GET', '/admin/v1/agents', undefined, null)).status).toBe(401);
    const bogus = await api(fx, 'GET', '/admin/v1/agents', undefined, 'gha_not-a-real-token');
    expect(bogus.status).toBe(401);
    expect(bogus.headers['www-authenticate']).toContain('Bearer');
    const auditor = await api(fx, 'POST', '/admin/v1/admin-tokens', { role: 'auditor' });
    expect((await api(fx, 'GET', '/admin/v1/audit/entries', undefined, auditor.body.secret)).status).toBe(
      200,
    );
    expect((await api(fx, 'POST', '/admin/v1/teams', { name: 'x' }, auditor.body.secret)).status).toBe(403);
    const listed = await api(fx, 'GET', '/admin/v1/admin-tokens');
    const used = listed.body.tokens.find((token: { id: string }) => token.id === auditor.body.token.id);
    expect(used.lastUsedAt).not.toBeNull();
    expect(listed.text).not.toContain(auditor.body.secret);
    const approver = await api(fx, 'POST', '/admin/v1/admin-tokens', { role: 'approver' });
    expect((await api(fx, 'GET', '/admin/v1/audit/entries', undefined, approver.body.secret)).status).toBe(
      403,
    );
    expect((await api(fx, 'DELETE', `/admin/v1/admin-tokens/${auditor.body.token.id}`)).status).toBe(200);
    expect((await api(fx, 'GET', '/admin/v1/agents', undefined, auditor.body.secret)).status).toBe(401);
    // A user-bound token dies with its user.
    const bound = await api(fx, 'POST', '/admin/v1/admin-tokens', {
      role: 'reviewer',
      user: 'bob@example.com',
    });
    await api(fx, 'POST', '/admin/v1/users/bob@example.com/deactivate');
    expect((await api(fx, 'GET', '/admin/v1/agents', undefined, bound.body.secret)).status).toBe(401);
  });

  describe('bad input: 4xx problem+json with a code, nothing stored, chain intact', () => {
    const cases: [string, () => Promise<{ status: number; body: { code: string } }>, number, string][] = [
      ['malformed JSON', () => api(fx, 'POST', '/admin/v1/teams', '{"name": "x"'), 400, 'invalid_request'],
      ['wrong type', () => api(fx, 'POST', '/admin/v1/teams', { name: 42 }), 400, 'validation_failed'],
      [
        'unknown field',
        () => api(fx, 'POST', '/admin/v1/teams', { name: 'x', owner: 'me' }),
        400,
        'validation_failed',
      ],
      [
        'bad name',
        () => api(fx, 'POST', '/admin/v1/teams', { name: 'Robert"); DROP' }),
        400,
        'validation_failed',
      ],
      [
        'bad email',
        () => api(fx, 'POST', '/admin/v1/users', { email: 'not-an-email' }),
        400,
        'validation_failed',
      ],
      [
        'oversized body',
        () => api(fx, 'POST', '/admin/v1/teams', { name: 'x', description: 'a'.repeat(70_000) }),
        413,
        'body_too_large',
      ],
      ['duplicate team', () => api(fx, 'POST', '/admin/v1/teams', { name: 'payments' }), 409, 'team_exists'],
      [
        'duplicate user',
        () => api(fx, 'POST', '/admin/v1/users', { email: 'ALICE@example.com' }),
        409,
        'user_exists',
      ],
      [
        'duplicate agent',
        () =>
          api(fx, 'POST', '/admin/v1/agents', {
            name: 'invoice-bot',
            team: 'payments',
            sponsor: 'alice@example.com',
          }),
        409,
        'agent_exists',
      ],
      [
        'unknown team',
        () => api(fx, 'POST', '/admin/v1/agents', { name: 'x', team: 'nope', sponsor: 'alice@example.com' }),
        404,
        'team_not_found',
      ],
      [
        'unknown agent',
        () => api(fx, 'POST', '/admin/v1/agents/agt_nope/suspend', {}),
        404,
        'agent_not_found',
      ],
      [
        'unknown user',
        () => api(fx, 'POST', '/admin/v1/users/x@example.com/deactivate'),
        404,
        'user_not_found',
      ],
      [
        'bad manifest tool',
        () => api(fx, 'POST', '/admin/v1/agents/invoice-bot/manifests', { tools: ['no-dot'] }),
        400,
        'validation_failed',
      ],
      ['unknown route', () => api(fx, 'GET', '/admin/v1/nothing'), 404, 'route_not_found'],
      ['bad query', () => api(fx, 'GET', '/admin/v1/agents?state=dancing'), 400, 'validation_failed'],
      [
        'resume an active agent',
        () => api(fx, 'POST', '/admin/v1/agents/invoice-bot/resume'),
        409,
        'invalid_state_transition',
      ],
    ];
    it.each(cases)('%s', async (_name, send, status, code) => {
      await seedRegistry(fx);
      const before = await auditState(fx);
      const teams = (await fx.gatehouse.store.teams.list()).length;
      const agents = (await fx.gatehouse.store.agents.list()).length;
      const response = await send();
      expect(response.status).toBe(status);
      expect(response.body.code).toBe(code);
      expect((await fx.gatehouse.store.teams.list()).length).toBe(teams);
      expect((await fx.gatehouse.store.agents.list()).length).toBe(agents);
      expect(await auditState(fx)).toEqual(before);
      await expectChainValid(fx);
    });
  });

  it('serves health, readiness and an OpenAPI document', async () => {
    expect((await api(fx, 'GET', '/healthz', undefined, null)).body).toEqual({ status: 'ok' });
    expect((await api(fx, 'GET', '/readyz', undefined, null)).body).toMatchObject({
      status: 'ready',
      store: 'sqlite',
    });
    const openapi = await api(fx, 'GET', '/openapi.json', undefined, null);
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/admin/v1/agents', '/admin/v1/agents/{agent}/review', '/oauth/token']),
    );
    expect(openapi.body.paths['/admin/v1/teams'].post.requestBody).toBeDefined();
  });
});
