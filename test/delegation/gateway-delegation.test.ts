import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { createAdminToken } from '../../src/identity/admin-tokens.js';
import { CAPABILITY_HEADER } from '../../src/verify/index.js';
import { type DelegationGateway, startDelegationGateway } from './support/gateway-fixture.js';

const POLICY = `
version: 1
rules:
  - id: tools-allowed
    tool: ["tools.*", "research.*"]
    effect: allow
  - id: chains-longer-than-3-denied
    description: chains longer than 3 are denied
    condition: size(chain) > 3
    effect: deny
  - id: echo-only-for-support
    description: only calls on behalf of users in group support may use tools.echo
    tool: tools.echo
    condition: "user != null && !('support' in user.properties.groups)"
    effect: deny
  - id: planner-subagents-no-count
    description: sub-agents of the planner may not call tools.count
    tool: tools.count
    condition: "chain.exists(l, l.kind == 'agent' && l.sub == '$PLANNER') && principal.id != '$PLANNER'"
    effect: deny
`;

type ToolResult = { isError?: boolean; content: Array<{ text?: string }> };

// Real server, real IdP, real upstreams: the chain travels from the token into the session, the policy, the
// capability and the audit, and across an agent-to-agent hop that Gatehouse exchanges itself.
describe('delegation through the MCP gateway', () => {
  let g: DelegationGateway;
  beforeAll(async () => {
    g = await startDelegationGateway(POLICY);
  }, 60_000);
  afterAll(async () => g?.close());

  const audit = async () => {
    await g.server.gatehouse.audit.flush();
    return g.server.gatehouse.store.audit.list(0, 100_000);
  };

  it("decides with the user and chain from the token; the task becomes the session's scope", async () => {
    const client = await g.connect(await g.userToken('alice', { task: '{"customer":"A"}' }));
    const result = (await client.callTool({
      name: 'tools.echo',
      arguments: { message: 'hi' },
    })) as ToolResult;
    expect(result.isError).toBeFalsy();
    expect(result.content[0]?.text).toBe('hi');

    const { gatehouse } = g.server;
    const sessions = await gatehouse.store.sessions.list({ agentId: g.agents.planner.id, limit: 10 });
    const alice = await gatehouse.store.users.findByEmail('alice@acme.example');
    expect(sessions[0]).toMatchObject({
      scope: { customer: 'A' },
      user: { id: alice?.id, email: 'alice@acme.example', properties: { groups: ['support'] } },
      chain: [
        { sub: alice?.id, kind: 'user' },
        { sub: g.agents.planner.id, kind: 'agent' },
      ],
    });
    // The capability the upstream received names the chain (act) and the user.
    const forwarded = g.tools.calls.at(-1);
    const capability = decodeJwt(String(forwarded?.headers[CAPABILITY_HEADER]));
    expect(capability).toMatchObject({
      sub: g.agents.planner.id,
      act: { sub: g.agents.planner.id },
      on_behalf_of: alice?.id,
    });
    // The audit shows the whole chain on the call.
    const decided = (await audit()).filter((entry) => entry.action === 'mcp.call.decided').at(-1);
    expect(decided?.details).toMatchObject({
      tool: 'tools.echo',
      effect: 'allow',
      chain: sessions[0]?.chain,
    });
  });

  it('policies limit by any link: users outside group support may not use tools.echo', async () => {
    const client = await g.connect(await g.userToken('bob'));
    await expect(client.callTool({ name: 'tools.echo', arguments: { message: 'hi' } })).rejects.toThrow(
      /only calls on behalf of users in group support/,
    );
  });

  it("a token's scope narrows what its holder may call (insufficient_scope), before the policy", async () => {
    const client = await g.connect(await g.userToken('alice', { scope: 'tools.echo' }));
    const echo = (await client.callTool({ name: 'tools.echo', arguments: { message: 'ok' } })) as ToolResult;
    expect(echo.isError).toBeFalsy();
    await expect(client.callTool({ name: 'tools.count', arguments: { to: 1 } })).rejects.toThrow(/scope/);
    const refused = (await audit()).filter((entry) => entry.action === 'mcp.call.refused').at(-1);
    expect(refused?.details).toMatchObject({ tool: 'tools.count', code: 'insufficient_scope' });
  });

  it('agent-to-agent: Gatehouse exchanges the token on the hop; the callee decides with alice -> planner -> researcher', async () => {
    const parent = await g.userToken('alice', { task: '{"customer":"A"}', scope: 'tools.* research.*' });
    const client = await g.connect(parent);
    const result = (await client.callTool({
      name: 'research.investigate',
      arguments: { question: 'q1' },
    })) as ToolResult;
    expect(result.isError).toBeFalsy();
    const report = JSON.parse(result.content[0]?.text ?? '{}');
    // The researcher's own calls: echo allowed, count denied to sub-agents of the planner.
    expect(report.echo).toEqual({ text: 'researched q1' });
    expect(report.count.refused).toMatch(/sub-agents of the planner/);

    const handed = decodeJwt(g.researcherTokens.at(-1) as string);
    const alice = await g.server.gatehouse.store.users.findByEmail('alice@acme.example');
    expect(handed).toMatchObject({
      aud: 'gatehouse',
      sub: alice?.id,
      client_id: g.agents.researcher.id,
      act: { sub: g.agents.researcher.id, act: { sub: g.agents.planner.id } },
      task: { customer: 'A' },
      scope: 'tools.* research.*',
    });
    expect(handed.exp).toBeLessThanOrEqual(decodeJwt(parent).exp as number);
    const hop = (await audit()).filter((entry) => entry.action === 'token.exchanged').at(-1);
    expect(hop?.details).toMatchObject({
      grantType: 'gatehouse:agent-hop',
      hop: { tool: 'research.investigate' },
    });
  });

  it('the session graph shows the task: alice -> planner -> researcher, and every call with its decision', async () => {
    const { gatehouse } = g.server;
    const [plannerSession] = await gatehouse.store.sessions.list({ agentId: g.agents.planner.id, limit: 1 });
    const admin = await createAdminToken(
      gatehouse,
      { actor: 'test', role: 'admin', userId: null },
      { role: 'auditor', name: 'graph' },
    );
    const response = await g.server.app.inject({
      method: 'GET',
      url: `/admin/v1/sessions/${plannerSession?.id}/graph`,
      headers: { authorization: `Bearer ${admin.secret}` },
    });
    expect(response.statusCode).toBe(200);
    const { graph } = response.json();
    const alice = await gatehouse.store.users.findByEmail('alice@acme.example');
    expect(graph.sessions).toHaveLength(2);
    expect(graph.nodes).toEqual(
      expect.arrayContaining([
        { id: `user:${alice?.id}`, kind: 'user', label: 'alice@acme.example' },
        { id: `agent:${g.agents.planner.id}`, kind: 'agent', label: 'planner' },
        { id: `agent:${g.agents.researcher.id}`, kind: 'agent', label: 'researcher' },
        { id: 'tool:tools.echo', kind: 'tool', label: 'tools.echo' },
      ]),
    );
    const shape = graph.edges.map(
      (edge: { from: string; to: string; kind: string; effect?: string; via?: string }) =>
        [edge.kind, edge.from, edge.to, edge.effect ?? edge.via ?? ''].join(' '),
    );
    expect(shape).toEqual(
      expect.arrayContaining([
        `delegation user:${alice?.id} agent:${g.agents.planner.id} `,
        `delegation agent:${g.agents.planner.id} agent:${g.agents.researcher.id} research.investigate`,
        `call agent:${g.agents.planner.id} tool:research.investigate allow`,
        `call agent:${g.agents.researcher.id} tool:tools.echo allow`,
        `call agent:${g.agents.researcher.id} tool:tools.count deny`,
      ]),
    );
  });

  it('gatehouse sessions graph prints delegations and calls with their decisions', async () => {
    const { gatehouse } = g.server;
    const [plannerSession] = await gatehouse.store.sessions.list({ agentId: g.agents.planner.id, limit: 1 });
    const admin = await createAdminToken(
      gatehouse,
      { actor: 'test', role: 'admin', userId: null },
      { role: 'auditor', name: 'cli' },
    );
    let stdout = '';
    const code = await runCli(['sessions', 'graph', plannerSession?.id as string], {
      stdout: (text) => {
        stdout += text;
      },
      stderr: () => {},
      env: { GATEHOUSE_SERVER: g.server.url, GATEHOUSE_TOKEN: admin.secret },
      cwd: '.',
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/user alice@acme\.example\s+agent planner/);
    expect(stdout).toMatch(/agent planner\s+agent researcher\s+research\.investigate/);
    expect(stdout).toMatch(/agent researcher\s+tools\.count\s+deny \(policy_denied\)/);
  });

  it('a refused or revoked token is refused at /mcp and audited', async () => {
    const before = (await audit()).length;
    const token = await g.ownToken(g.agents.writer);
    const [header, payload, signature] = token.split('.');
    const edited = JSON.stringify({
      ...decodeJwt(token),
      sub: g.agents.planner.id,
      client_id: g.agents.planner.id,
    });
    const forged = `${header}.${Buffer.from(edited).toString('base64url')}.${signature}`;
    await expect(g.connect(forged)).rejects.toThrow();
    const refused = (await audit()).slice(before).filter((entry) => entry.action === 'mcp.request.refused');
    expect(refused.at(-1)?.details).toMatchObject({ code: 'invalid_token', reason: 'signature' });
    void payload;
  });
});
