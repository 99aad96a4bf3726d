import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT } from 'jose';
import { readAuditExport, verifyAuditTrail } from '../../audit/index.js';
import { parseConfig } from '../../config/index.js';
import { createAdminToken } from '../../identity/admin-tokens.js';
import { findFreePort } from '../../lib/free-port.js';
import { startServer } from '../../server/start-server.js';
import { describeInventory } from '../../server/views.js';
import { localOperator } from '../admin-client.js';
import type { CliIo } from '../output.js';

/**
 * A scripted walk through the foundation on a throwaway embedded store, over real HTTP: a security engineer
 * registers an agent, the agent authenticates with its own key, a reviewer approves it, ownership survives a
 * person leaving, attacks are refused, and the audit log verifies offline (and catches tampering).
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
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-demo-'));
  const port = await findFreePort();
  const config = parseConfig({
    dataDir,
    server: { port, publicUrl: `http://127.0.0.1:${port}`, logLevel: 'silent' },
  });
  const server = await startServer(config);
  try {
    const base = server.url;
    say(`Gatehouse is running at ${base} on the embedded SQLite store in ${dataDir}`);
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

    step('5. Suspension cuts off live tokens at once');
    const me = (token: string) =>
      fetch(`${base}/agent/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    say(`agent calls /agent/v1/me: ${(await me(tokenResponse.access_token)).status}`);
    await call('POST', `/admin/v1/agents/${agentId}/suspend`, { reason: 'demo: unexpected egress' });
    say(`suspended; the same token now gets: ${(await me(tokenResponse.access_token)).status}`);
    await call('POST', `/admin/v1/agents/${agentId}/resume`);

    step('6. People leave, agents stay owned: deactivate the sponsor, transfer the agent');
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

    step('7. The inventory');
    const inventory = await call('GET', '/admin/v1/agents');
    say(describeInventory(inventory.body.summary));

    step('8. The audit log: export, verify offline with only the public JWKS, catch tampering');
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
    if (keep) say(`data kept in ${dataDir}`);
    else await rm(dataDir, { recursive: true, force: true });
  }
}

async function parseLines(lines: string[], dir: string) {
  const file = join(dir, 'tampered.jsonl');
  await writeFile(file, lines.join('\n'));
  return readAuditExport(file);
}
