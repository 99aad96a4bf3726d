import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { parseConfig } from '../../src/config/index.js';
import { findFreePort } from '../../src/lib/free-port.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cliIn(dir: string, env: Record<string, string> = {}) {
  return async (...argv: string[]): Promise<CliResult> => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      env: { GATEHOUSE_DATA_DIR: join(dir, 'data'), GATEHOUSE_MASTER_KEY: MASTER_KEY, ...env },
      cwd: dir,
    });
    return { code, stdout, stderr };
  };
}

const MASTER_KEY = randomBytes(32).toString('base64');

describe('gatehouse CLI on the embedded store', () => {
  let dir: string;
  let cli: ReturnType<typeof cliIn>;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'));
    cli = cliIn(dir);
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('walks the security engineer story and verifies the audit export offline', async () => {
    expect((await cli('team', 'create', 'payments')).code).toBe(0);
    expect((await cli('team', 'create', 'platform')).code).toBe(0);
    expect((await cli('user', 'create', 'alice@example.com', '--team', 'payments')).code).toBe(0);
    expect((await cli('user', 'create', 'carol@example.com', '--team', 'platform')).code).toBe(0);
    await writeFile(join(dir, 'manifest.yaml'), 'description: files invoices\ntools: [erp.create_invoice]\n');
    const registered = await cli(
      'agent',
      'register',
      'invoice-bot',
      '--team',
      'payments',
      '--sponsor',
      'alice@example.com',
      '--label',
      'env=prod',
      '--manifest',
      'manifest.yaml',
      '--key-out',
      'bot.pem',
    );
    expect(registered.code).toBe(0);
    expect(registered.stdout).toContain('private key written to bot.pem');
    expect(registered.stdout).not.toContain('PRIVATE KEY');
    expect(await readFile(join(dir, 'bot.pem'), 'utf8')).toContain('PRIVATE KEY');

    const list = await cli('agent', 'list');
    expect(list.stdout).toContain('1 agent — 0 approved, 1 unreviewed, 0 rejected');
    expect(list.stdout).toMatch(/invoice-bot\s+payments\s+alice@example.com\s+unreviewed\s+active/);
    const listed = JSON.parse((await cli('--json', 'agent', 'list', '--team', 'payments')).stdout);
    expect(listed.agents[0]).toMatchObject({ name: 'invoice-bot', labels: { env: 'prod' } });

    expect((await cli('agent', 'suspend', 'invoice-bot', '--reason', 'investigation')).stdout).toContain(
      'suspended',
    );
    const transferred = await cli(
      'agent',
      'transfer',
      'invoice-bot',
      '--team',
      'platform',
      '--sponsor',
      'carol@example.com',
    );
    expect(transferred.stdout).toContain('now belongs to platform, sponsor carol@example.com');
    await writeFile(join(dir, 'manifest2.yaml'), 'tools: [erp.create_invoice, http.post]\n');
    const pushed = await cli('agent', 'manifest', 'push', 'invoice-bot', '--file', 'manifest2.yaml');
    expect(pushed.stdout).toContain('+ tools: http.post');
    expect((await cli('agent', 'manifest', 'diff', 'invoice-bot')).stdout).toContain('v1 -> v2');
    expect((await cli('keys', 'rotate')).code).toBe(0);

    expect((await cli('audit', 'verify')).stdout).toContain('audit log verified');
    expect((await cli('audit', 'export', '--out', 'audit.jsonl')).code).toBe(0);
    expect((await cli('keys', 'jwks', '--out', 'jwks.json')).code).toBe(0);
    const offline = await cli('audit', 'verify', '--file', 'audit.jsonl', '--jwks', 'jwks.json');
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain('audit log verified');

    const lines = (await readFile(join(dir, 'audit.jsonl'), 'utf8')).trimEnd().split('\n');
    const entryLines = lines.filter((line) => line.includes('"type":"entry"'));
    const victim = entryLines[3] as string;
    await writeFile(join(dir, 'tampered.jsonl'), lines.filter((line) => line !== victim).join('\n'));
    const tampered = await cli('audit', 'verify', '--file', 'tampered.jsonl', '--jwks', 'jwks.json');
    expect(tampered.code).toBe(6);
    expect(tampered.stdout).toContain('FAILED at seq 4');
  });

  it('maps errors to stable codes and exit codes', async () => {
    const missing = await cli('agent', 'show', 'nope');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe('error: no agent `nope` (agent_not_found)\n');
    await cli('team', 'create', 'payments');
    const duplicate = await cli('--json', 'team', 'create', 'payments');
    expect(duplicate.code).toBe(4);
    expect(JSON.parse(duplicate.stderr)).toEqual({
      error: { code: 'team_exists', message: 'team `payments` already exists' },
    });
    expect((await cli('agent', 'register', 'x', '--team', 'payments')).code).toBe(2);
    expect(
      (await cli('agent', 'register', 'x', '--team', 'payments', '--sponsor', 'a@b.co', '--label', 'bad'))
        .code,
    ).toBe(2);
    await writeFile(join(dir, 'gatehouse.yaml'), 'server:\n  port: "eighty"\n');
    const badConfig = await cli('team', 'list');
    expect(badConfig.code).toBe(78);
    expect(badConfig.stderr).toContain('server.port');
  });
});

describe('gatehouse CLI against a running server', () => {
  let server: RunningServer;
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-srv-'));
    const port = await findFreePort();
    server = await startServer(
      parseConfig({
        dataDir: join(dir, 'data'),
        masterKey: MASTER_KEY,
        server: { port, publicUrl: `http://127.0.0.1:${port}`, logLevel: 'silent' },
      }),
    );
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('uses --server and --token, and refuses without a token', async () => {
    const local = cliIn(dir);
    const created = await local('--json', 'admin', 'token', 'create', '--role', 'admin', '--name', 'ops');
    const secret = JSON.parse(created.stdout).secret as string;
    const remote = cliIn(dir, { GATEHOUSE_SERVER: server.url });
    const anonymous = await remote('team', 'list');
    expect(anonymous.code).toBe(5);
    expect(anonymous.stderr).toContain('unauthorized');
    expect((await remote('--token', secret, 'team', 'create', 'payments')).code).toBe(0);
    expect(
      (await remote('--token', secret, 'user', 'create', 'alice@example.com', '--team', 'payments')).code,
    ).toBe(0);
    const registered = await remote(
      '--token',
      secret,
      'agent',
      'register',
      'bot',
      '--team',
      'payments',
      '--sponsor',
      'alice@example.com',
    );
    expect(registered.stdout).toContain('BEGIN PRIVATE KEY');
    expect((await remote('--token', secret, 'agent', 'list')).stdout).toContain('1 agent —');
    expect((await remote('--token', secret, 'audit', 'verify')).code).toBe(0);
    const actions = (await server.gatehouse.store.audit.list(0, 100)).map((entry) => entry.action);
    expect(actions).toEqual(
      expect.arrayContaining(['server.started', 'signing_key.generated', 'agent.registered']),
    );
  });
});

describe('the gatehouse binary', () => {
  it('prints help and exits 0', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      'src/cli/main.ts',
      '--help',
    ]);
    for (const command of ['serve', 'demo', 'team', 'user', 'agent', 'keys', 'audit', 'admin'])
      expect(stdout).toContain(command);
  });
});
