import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { loadConfig, parseConfig } from '../../src/config/index.js';
import { findFreePort } from '../../src/lib/free-port.js';
import { createGatehouse } from '../../src/server/create-gatehouse.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';

const MASTER_KEY = randomBytes(32).toString('base64');
const newValue = () => `sk-live-${randomBytes(16).toString('hex')}`;

describe('gatehouse secrets', () => {
  let dir: string;
  /** Everything the CLI printed, on either stream, across a test. */
  let printed: string;
  let values: string[];

  const cli = async (argv: string[], options: { stdin?: string; env?: Record<string, string> } = {}) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      env: { GATEHOUSE_DATA_DIR: join(dir, 'data'), GATEHOUSE_MASTER_KEY: MASTER_KEY, ...options.env },
      cwd: dir,
      ...(options.stdin === undefined ? {} : { stdin: async () => options.stdin as string }),
    });
    printed += `${stdout}\n${stderr}\n`;
    return { code, stdout, stderr };
  };
  const value = () => {
    const fresh = newValue();
    values.push(fresh);
    return fresh;
  };
  /** What the vault in the data directory holds, read the way the gateway will. */
  const reveal = async (name: string) => {
    const gatehouse = await createGatehouse(
      loadConfig({
        env: { GATEHOUSE_DATA_DIR: join(dir, 'data'), GATEHOUSE_MASTER_KEY: MASTER_KEY },
        cwd: dir,
      }),
    );
    try {
      return await gatehouse.vault.reveal(name);
    } finally {
      await gatehouse.close();
    }
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-secrets-cli-'));
    printed = '';
    values = [];
  });
  afterEach(async () => {
    for (const sent of values) expect(printed).not.toContain(sent.slice(8));
    await rm(dir, { recursive: true, force: true });
  });

  it('sets from stdin, rotates, lists and deletes without ever printing the value', async () => {
    const first = value();
    const set = await cli(
      ['secrets', 'set', 'tickets-token', '--upstream', 'tickets', '--description', 'API'],
      {
        stdin: `${first}\n`,
      },
    );
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(set.stdout).toBe('secret `tickets-token` created, bound to upstream `tickets`\n');
    // echo's final line break is not part of the value
    expect(await reveal('tickets-token')).toBe(first);

    const second = value();
    const rotated = await cli(['secrets', 'rotate', 'tickets-token'], { stdin: second });
    expect(rotated.stdout).toBe('secret `tickets-token` rotated to version 2, bound to upstream `tickets`\n');
    expect(await reveal('tickets-token')).toBe(second);

    const third = value();
    expect((await cli(['secrets', 'set', 'tickets-token'], { stdin: `${third}\r\n` })).stdout).toContain(
      'rotated to version 3',
    );
    expect(await reveal('tickets-token')).toBe(third);

    const list = await cli(['secrets', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+VERSION\s+UPSTREAM\s+USED BY\s+UPDATED\s+BY\s+DESCRIPTION\n/);
    expect(list.stdout).toMatch(/tickets-token\s+3\s+tickets\s+-\s+\S+\s+cli:\S+\s+API\n/);

    const json = JSON.parse((await cli(['--json', 'secrets', 'list'])).stdout);
    expect(json.secrets[0]).not.toHaveProperty('value');
    expect(json.secrets[0]).toMatchObject({ name: 'tickets-token', version: 3 });

    const deleted = await cli(['secrets', 'delete', 'tickets-token']);
    expect(deleted.stdout).toBe('secret `tickets-token` deleted\n');
    expect((await cli(['secrets', 'list'])).stdout).toBe('no secrets\n');
    expect(await cli(['secrets', 'delete', 'tickets-token'])).toMatchObject({ code: 3 });
  });

  it('reads --from-env and --from-file, keeping a multi-line file intact but its final line break', async () => {
    const fromEnv = value();
    expect(
      (await cli(['secrets', 'set', 'env-token', '--from-env', 'MY_TOKEN'], { env: { MY_TOKEN: fromEnv } }))
        .code,
    ).toBe(0);
    expect(await reveal('env-token')).toBe(fromEnv);

    const pem = `-----BEGIN PRIVATE KEY-----\n${value()}\n${value()}\n-----END PRIVATE KEY-----`;
    await writeFile(join(dir, 'key.pem'), `${pem}\n`, { mode: 0o600 });
    expect((await cli(['secrets', 'set', 'signing-key', '--from-file', 'key.pem'])).code).toBe(0);
    expect(await reveal('signing-key')).toBe(pem);
  });

  it('refuses an unknown name on rotate, and bad input with clear exits', async () => {
    const unknown = await cli(['secrets', 'rotate', 'nope'], { stdin: value() });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toBe('error: no secret `nope` in the vault (secret_not_found)\n');

    // A value given as an argument is a usage error: argv is visible in `ps`.
    expect((await cli(['secrets', 'set', 'argv-token', value()], { stdin: value() })).code).toBe(2);

    const both = await cli(['secrets', 'set', 'x', '--from-env', 'A', '--from-file', 'f'], {
      env: { A: value() },
    });
    expect(both).toMatchObject({
      code: 2,
      stderr: 'error: give --from-env or --from-file, not both (invalid_request)\n',
    });

    const unset = await cli(['secrets', 'set', 'x', '--from-env', 'NOT_SET']);
    expect(unset.stderr).toBe(
      'error: environment variable `NOT_SET` is not set or empty (invalid_request)\n',
    );

    expect((await cli(['secrets', 'set', 'x', '--from-file', 'missing.txt'])).stderr).toContain(
      'cannot read',
    );
    expect((await cli(['secrets', 'set', 'x'])).stderr).toContain('no standard input');
    expect((await cli(['secrets', 'set', 'x'], { stdin: '\n' })).stderr).toBe(
      'error: the value of secret `x` is empty (validation_failed)\n',
    );
    const badName = await cli(['secrets', 'set', 'Bad'], { stdin: value() });
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('`Bad` is not a secret name');

    const json = await cli(['--json', 'secrets', 'rotate', 'nope'], { stdin: value() });
    expect(JSON.parse(json.stderr)).toEqual({
      error: { code: 'secret_not_found', message: 'no secret `nope` in the vault' },
    });
    expect((await cli(['secrets', 'list'])).stdout).toBe('no secrets\n');
  });

  it('warns about configured references the vault cannot satisfy', async () => {
    await writeFile(
      join(dir, 'gatehouse.yaml'),
      [
        'upstreams:',
        '  - name: files',
        '    transport: stdio',
        '    command: mcp-files',
        '    secretEnv: {TOKEN: files-token, OTHER: tickets-token}',
        '  - name: tickets',
        '    transport: http',
        '    url: https://tickets.example/mcp',
        '    secretHeaders: {Authorization: {secret: tickets-token, prefix: "Bearer "}}',
      ].join('\n'),
    );
    await cli(['secrets', 'set', 'tickets-token', '--upstream', 'tickets'], { stdin: value() });
    const list = await cli(['secrets', 'list']);
    expect(list.stdout).toMatch(/tickets-token\s+1\s+tickets\s+files,tickets\s/);
    expect(list.stdout).toContain(
      'warning: upstream `files` references secret `files-token`, which the vault does not hold\n',
    );
    expect(list.stdout).toContain(
      'warning: upstream `files` references secret `tickets-token`, which is bound to `tickets`\n',
    );
  });
});

describe('gatehouse secrets against a running server', () => {
  let dir: string;
  let server: RunningServer;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-secrets-srv-'));
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

  it('sends the value over the admin API and prints only the info', async () => {
    let printed = '';
    const io = (stdin: string) => ({
      stdout: (text: string) => {
        printed += text;
      },
      stderr: (text: string) => {
        printed += text;
      },
      env: { GATEHOUSE_DATA_DIR: join(dir, 'data'), GATEHOUSE_MASTER_KEY: MASTER_KEY },
      cwd: dir,
      stdin: async () => stdin,
    });
    expect(await runCli(['--json', 'admin', 'token', 'create', '--role', 'admin'], io(''))).toBe(0);
    const token = JSON.parse(printed).secret as string;
    printed = '';
    const secret = newValue();
    const remote = ['--server', server.url, '--token', token];
    expect(await runCli([...remote, 'secrets', 'set', 'remote-token'], io(secret))).toBe(0);
    expect(await runCli([...remote, 'secrets', 'rotate', 'remote-token'], io(`${secret}-2`))).toBe(0);
    expect(await runCli([...remote, 'secrets', 'list'], io(''))).toBe(0);
    expect(printed).toContain('secret `remote-token` created');
    expect(printed).toContain('rotated to version 2');
    expect(printed).not.toContain(secret.slice(8));
    expect(printed).not.toContain('warning'); // loopback: no cleartext warning
    expect(await server.gatehouse.vault.reveal('remote-token')).toBe(`${secret}-2`);
  });
});
