import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';

describe('configuration', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-config-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const load = (env: Record<string, string> = {}, configFile?: string) =>
    loadConfig({ env, cwd: dir, configFile });

  it('has safe defaults: loopback, embedded store, short tokens', () => {
    const config = load({ GATEHOUSE_DATA_DIR: 'data' });
    expect(config.dataDir).toBe(join(dir, 'data'));
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 7400, bodyLimitBytes: 65536 });
    expect(config.store).toEqual({ driver: 'sqlite' });
    expect(config.tokens.accessTokenTtl).toBe(300_000);
  });

  it('reads gatehouse.yaml, parses durations, and lets the environment override it', async () => {
    await writeFile(
      join(dir, 'gatehouse.yaml'),
      'dataDir: /srv/gh\nserver:\n  port: 9000\ntokens:\n  accessTokenTtl: 2m\nlifecycle:\n  orphanGracePeriod: 14d\n',
    );
    const config = load({ GATEHOUSE_PORT: '9100', GATEHOUSE_MASTER_KEY: 'k'.repeat(43) });
    expect(config).toMatchObject({ dataDir: '/srv/gh', masterKey: 'k'.repeat(43) });
    expect(config.server.port).toBe(9100);
    expect(config.tokens.accessTokenTtl).toBe(120_000);
    expect(config.lifecycle.orphanGracePeriod).toBe(14 * 24 * 3600_000);
  });

  it.each([
    ['an unknown field', 'servr:\n  port: 1\n', 'servr'],
    ['a wrong type', 'server:\n  port: "eighty"\n', 'server.port'],
    ['a bad duration', 'tokens:\n  accessTokenTtl: soon\n', 'tokens.accessTokenTtl'],
    ['invalid YAML', 'server: [\n', 'not valid YAML'],
    ['duplicate keys', 'dataDir: a\ndataDir: b\n', 'not valid YAML'],
    ['postgres without a master key', 'store:\n  driver: postgres\n  url: postgres://db/gh\n', 'masterKey'],
  ])('refuses %s, naming it', async (_name, yaml, named) => {
    await writeFile(join(dir, 'gatehouse.yaml'), yaml);
    expect(() => load()).toThrow(
      expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining(named) }),
    );
  });

  it('switches to PostgreSQL from the environment', () => {
    const config = load({
      GATEHOUSE_STORE_URL: 'postgres://db/gh',
      GATEHOUSE_STORE_SCHEMA: 'gh',
      GATEHOUSE_MASTER_KEY: 'x',
    });
    expect(config.store).toEqual({ driver: 'postgres', url: 'postgres://db/gh', schema: 'gh' });
  });

  it('fails on an explicit config file that does not exist', () => {
    expect(() => load({}, 'missing.yaml')).toThrow(expect.objectContaining({ code: 'invalid_config' }));
  });
});
