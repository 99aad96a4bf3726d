import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateAgent } from '../../src/gateway/mcp/agent-auth.js';
import { api } from '../support/gatehouse.js';
import {
  ACCESS_TOKEN,
  createDelegationFixture,
  type DelegationFixture,
  ID_TOKEN,
  JWT_TOKEN,
  TOKEN_EXCHANGE,
} from './support/delegation-fixture.js';

// A real company IdP (oidc-provider) signs users in; agents exchange their tokens at Gatehouse (RFC 8693).
describe('token exchange: users from an OpenID Connect provider, agents and sub-agents', () => {
  let f: DelegationFixture;
  beforeAll(async () => {
    f = await createDelegationFixture();
  });
  afterAll(async () => f.close());

  const asUser = async (login: string, extra: Record<string, string> = {}) =>
    f.exchange(f.agents.planner, await f.idp.login(login), { subject_token_type: ID_TOKEN, ...extra });

  it("exchanges a user's ID token for a token that says: planner acting for alice, scoped to the task", async () => {
    const before = await f.auditHead();
    const response = await asUser('alice', { scope: 'crm.* files.read_file', task: '{"customer":"A"}' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      issued_token_type: ACCESS_TOKEN,
      token_type: 'Bearer',
      scope: 'crm.* files.read_file',
    });
    const claims = decodeJwt(response.body.access_token as string);
    const alice = await api(f.fx, 'GET', '/admin/v1/users/alice@acme.example');
    expect(claims).toMatchObject({
      iss: 'http://gatehouse.test',
      aud: 'gatehouse',
      sub: alice.body.user.id,
      client_id: f.agents.planner.id,
      act: { sub: f.agents.planner.id },
      task: { customer: 'A' },
      user: {
        name: 'alice@acme.example',
        email: 'alice@acme.example',
        groups: ['support'],
        idp: f.idp.issuer,
      },
    });
    expect(claims.act).toEqual({ sub: f.agents.planner.id });
    const me = await f.me(response.body.access_token as string);
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(f.agents.planner.id);
    const audit = await f.auditSince(before);
    const exchanged = audit.find((entry) => entry.action === 'token.exchanged');
    expect(exchanged?.details).toMatchObject({
      chain: [
        { sub: alice.body.user.id, kind: 'user' },
        { sub: f.agents.planner.id, kind: 'agent' },
      ],
      grantType: TOKEN_EXCHANGE,
    });
  });

  it('a user the registry does not know is named by the IdP username', async () => {
    const response = await asUser('carol');
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.access_token as string)).toMatchObject({
      sub: 'carol@acme.example',
      user: { email: 'carol@acme.example', groups: [] },
    });
  });

  it('hands work to a sub-agent: the chain reads alice -> planner -> researcher, with nested act claims', async () => {
    const parent = (await asUser('alice', { scope: 'crm.*', task: '{"customer":"A"}' })).body
      .access_token as string;
    // The planner first exchanges its token for one addressed to the researcher...
    const handed = await f.exchange(f.agents.planner, parent, { audience: f.agents.researcher.id });
    expect(handed.status).toBe(200);
    const handedClaims = decodeJwt(handed.body.access_token as string);
    expect(handedClaims).toMatchObject({
      aud: f.agents.researcher.id,
      client_id: f.agents.planner.id,
      may_act: { sub: f.agents.researcher.id },
    });
    // ...which is good for nothing at Gatehouse itself...
    expect((await f.me(handed.body.access_token as string)).status).toBe(401);
    // ...and which only the researcher can exchange, for a token of its own with the chain extended.
    const stolen = await f.exchange(f.agents.outsider, handed.body.access_token as string);
    expect(stolen.status).toBe(401);
    expect(stolen.body.code).toBe('invalid_token');
    const child = await f.exchange(f.agents.researcher, handed.body.access_token as string, {
      scope: 'crm.get_order',
    });
    expect(child.status).toBe(200);
    const claims = decodeJwt(child.body.access_token as string);
    expect(claims).toMatchObject({
      aud: 'gatehouse',
      client_id: f.agents.researcher.id,
      act: { sub: f.agents.researcher.id, act: { sub: f.agents.planner.id } },
      scope: 'crm.get_order',
      task: { customer: 'A' },
    });
    expect((claims.parents as string[]).length).toBe(2);
    expect(claims.exp).toBeLessThanOrEqual(decodeJwt(parent).exp as number);
    expect((await f.me(child.body.access_token as string)).body.id).toBe(f.agents.researcher.id);
  });

  it('accepts the actor as actor_token (a client assertion or its own token) instead of client authentication', async () => {
    const idToken = await f.idp.login('alice');
    const byAssertion = await f.token({
      grant_type: TOKEN_EXCHANGE,
      subject_token: idToken,
      subject_token_type: ID_TOKEN,
      actor_token: await f.assertion(f.agents.writer),
      actor_token_type: JWT_TOKEN,
    });
    expect(byAssertion.status).toBe(200);
    expect(decodeJwt(byAssertion.body.access_token as string).client_id).toBe(f.agents.writer.id);
    const byToken = await f.token({
      grant_type: TOKEN_EXCHANGE,
      subject_token: idToken,
      subject_token_type: ID_TOKEN,
      actor_token: await f.ownToken(f.agents.writer),
      actor_token_type: ACCESS_TOKEN,
    });
    expect(byToken.status).toBe(200);
    const none = await f.token({
      grant_type: TOKEN_EXCHANGE,
      subject_token: idToken,
      subject_token_type: ID_TOKEN,
    });
    expect(none).toMatchObject({ status: 400, body: { code: 'invalid_request' } });
  });

  it('agent-only chains: an agent delegates its own authority to another agent', async () => {
    const own = await f.ownToken(f.agents.planner);
    const handed = await f.exchange(f.agents.planner, own, {
      audience: f.agents.writer.name,
      scope: 'files.*',
    });
    expect(handed.status).toBe(200);
    const child = await f.exchange(f.agents.writer, handed.body.access_token as string);
    expect(child.status).toBe(200);
    expect(decodeJwt(child.body.access_token as string)).toMatchObject({
      sub: f.agents.planner.id,
      act: { sub: f.agents.writer.id },
      scope: 'files.*',
    });
    // `sub` names the planner, but the writer presents it: every endpoint sees the writer, never the planner.
    expect((await f.me(child.body.access_token as string)).body.id).toBe(f.agents.writer.id);
    const caller = await authenticateAgent(f.fx.gatehouse, `Bearer ${child.body.access_token}`);
    expect(caller.agent.id).toBe(f.agents.writer.id);
  });

  it('refuses to widen: more tools, another task value, a dropped task key are invalid_scope', async () => {
    const parent = (await asUser('alice', { scope: 'crm.get_*', task: '{"customer":"A"}' })).body
      .access_token as string;
    const handed = (await f.exchange(f.agents.planner, parent, { audience: f.agents.researcher.id })).body
      .access_token as string;
    const widenings: Record<string, string>[] = [
      { scope: 'crm.*' },
      { scope: 'crm.get_order payments.refund' },
      { task: '{"customer":"B"}' },
      { task: '{"region":"eu"}' },
    ];
    for (const extra of widenings) {
      const refused = await f.exchange(f.agents.researcher, handed, extra);
      expect(refused.status, JSON.stringify(extra)).toBe(400);
      expect(refused.body).toMatchObject({ code: 'invalid_scope', error: 'invalid_scope' });
    }
    const narrower = await f.exchange(f.agents.researcher, handed, {
      scope: 'crm.get_order',
      task: '{"customer":"A","order":"o-1"}',
    });
    expect(narrower.status).toBe(200);
  });

  it('honours may_act from the IdP: only the named agent may act for the user', async () => {
    const g = await createDelegationFixture({
      accounts: { dave: { email: 'dave@acme.example', mayAct: { sub: 'researcher' } } },
    });
    try {
      const idToken = await g.idp.login('dave');
      const refused = await g.exchange(g.agents.planner, idToken, { subject_token_type: ID_TOKEN });
      expect(refused).toMatchObject({
        status: 403,
        body: { code: 'delegation_forbidden', error: 'invalid_grant' },
      });
      const allowed = await g.exchange(g.agents.researcher, idToken, { subject_token_type: ID_TOKEN });
      expect(allowed.status).toBe(200);
    } finally {
      await g.close();
    }
  });

  it('audience checks: unknown audiences are invalid_target; tokens for one agent are refused by another', async () => {
    const parent = (await asUser('alice')).body.access_token as string;
    const refused = await f.exchange(f.agents.planner, parent, { audience: 'https://elsewhere.example' });
    expect(refused).toMatchObject({ status: 400, body: { code: 'invalid_target', error: 'invalid_target' } });
    const viaResource = await f.exchange(f.agents.planner, parent, { resource: 'http://gatehouse.test/mcp' });
    expect(viaResource.status).toBe(200);
    // The planner's own token is not the writer's to exchange.
    const taken = await f.exchange(f.agents.writer, parent);
    expect(taken).toMatchObject({ status: 403, body: { code: 'delegation_forbidden' } });
  });

  it('revoking a parent invalidates every token below it: token revoked, agent suspended, user deactivated', async () => {
    const chainOf = async (login: string) => {
      const parent = (await asUser(login)).body.access_token as string;
      const handed = (await f.exchange(f.agents.planner, parent, { audience: f.agents.writer.id })).body
        .access_token as string;
      const child = (await f.exchange(f.agents.writer, handed)).body.access_token as string;
      expect((await f.me(child)).status).toBe(200);
      return { parent, child };
    };

    // The planner revokes the token it holds (RFC 7009): the writer's token below it stops working.
    const first = await chainOf('alice');
    const revoke = await f.fx.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        token: first.parent,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await f.assertion(f.agents.planner),
      }).toString(),
    });
    expect(revoke.statusCode).toBe(200);
    expect((await f.me(first.parent)).status).toBe(401);
    const afterRevoke = await f.me(first.child);
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.body.detail).toMatch(/revoked/);
    expect((await f.exchange(f.agents.planner, first.parent)).status).toBe(401);

    // Suspending the planner (a middle link) stops the writer's token; resuming restores it.
    const second = await chainOf('alice');
    await api(f.fx, 'POST', `/admin/v1/agents/${f.agents.planner.id}/suspend`, { reason: 'test' });
    expect((await f.me(second.child)).body.detail).toMatch(/suspended/);
    await api(f.fx, 'POST', `/admin/v1/agents/${f.agents.planner.id}/resume`, {});
    expect((await f.me(second.child)).status).toBe(200);

    // Deactivating bob stops every token acting for him, and he can delegate nothing new.
    const third = await chainOf('bob');
    await api(f.fx, 'POST', '/admin/v1/users/bob@acme.example/deactivate', {});
    expect((await f.me(third.child)).body.detail).toMatch(/deactivated/);
    expect((await asUser('bob')).status).toBe(401);
  });

  it('publishes the grant in its metadata', async () => {
    const metadata = await f.fx.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    expect(metadata.json().grant_types_supported).toContain(TOKEN_EXCHANGE);
  });
});
