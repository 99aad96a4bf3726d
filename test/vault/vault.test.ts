import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { GatehouseError } from '../../src/errors/index.js';
import { createManualClock } from '../../src/lib/clock.js';
import type { Gatehouse } from '../../src/server/create-gatehouse.js';
import { createVault, MAX_SECRET_BYTES, SECRET_NAME_PATTERN } from '../../src/vault/index.js';
import { codeOf } from '../support/errors.js';
import { createTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { STORE_DRIVERS } from '../support/stores.js';

const newValue = () => `sk-live-${randomBytes(16).toString('hex')}`;

/** Fails if `text` holds the value in any encoding a careless serialiser might produce. */
function expectNoValue(text: string, value: string) {
  for (const form of [
    value,
    value.slice(8),
    JSON.stringify(value).slice(1, -1),
    Buffer.from(value).toString('base64'),
    Buffer.from(value).toString('base64url'),
    Buffer.from(value).toString('hex'),
  ]) {
    expect(text).not.toContain(form);
  }
}

async function errorOf(promise: Promise<unknown>): Promise<GatehouseError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatehouseError) return error;
    throw error;
  }
  throw new Error('expected a GatehouseError');
}

/** The secrets table exactly as the database holds it, as text. */
async function rawSecretRows(gatehouse: Gatehouse): Promise<Array<Record<string, unknown>>> {
  const store = gatehouse.config.store;
  if (store.driver === 'sqlite') {
    const db = new Database(store.path ?? join(gatehouse.config.dataDir, 'gatehouse.db'), { readonly: true });
    try {
      return db.prepare('SELECT * FROM secrets ORDER BY name').all() as Array<Record<string, unknown>>;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: store.url });
  await client.connect();
  try {
    return (await client.query(`SELECT * FROM ${store.schema}.secrets ORDER BY name`)).rows;
  } finally {
    await client.end();
  }
}

describe.each(STORE_DRIVERS)('the vault on %s', (driver) => {
  let fixture: TestGatehouse;
  let vault: Gatehouse['vault'];
  const clock = createManualClock();

  beforeEach(async () => {
    fixture = await createTestGatehouse({ driver, clock });
    vault = fixture.gatehouse.vault;
  });
  afterEach(async () => {
    await fixture.dispose();
  });

  it('creates version 1, rotates to version 2 keeping binding and description, lists without values', async () => {
    const first = newValue();
    const created = await vault.set(
      { name: 'tickets-token', value: first, upstream: 'tickets', description: 'ticketing API' },
      'test:alice',
    );
    expect(created).toEqual({
      name: 'tickets-token',
      upstream: 'tickets',
      description: 'ticketing API',
      version: 1,
      createdAt: clock.now(),
      updatedAt: clock.now(),
      updatedBy: 'test:alice',
    });
    expect(await vault.reveal('tickets-token')).toBe(first);

    clock.advance(60_000);
    const second = newValue();
    const rotated = await vault.set({ name: 'tickets-token', value: second }, 'test:bob');
    expect(rotated).toMatchObject({
      version: 2,
      upstream: 'tickets',
      description: 'ticketing API',
      createdAt: created.createdAt,
      updatedAt: clock.now(),
      updatedBy: 'test:bob',
    });
    expect(await vault.reveal('tickets-token')).toBe(second);

    const third = newValue();
    expect(
      await vault.rotate({ name: 'tickets-token', value: third, upstream: null }, 'test:bob'),
    ).toMatchObject({ version: 3, upstream: null });
    expect(await vault.reveal('tickets-token')).toBe(third);

    const listed = await vault.list();
    expect(listed.map((info) => [info.name, info.version])).toEqual([['tickets-token', 3]]);
    const text = JSON.stringify([listed, await vault.info('tickets-token')]);
    for (const value of [first, second, third]) expectNoValue(text, value);
    expect(Object.keys(listed[0] ?? {}).sort()).toEqual(
      ['createdAt', 'description', 'name', 'updatedAt', 'updatedBy', 'upstream', 'version'].sort(),
    );
  });

  it('refuses to rotate, reveal or delete an unknown name, and deletes for good', async () => {
    expect(await codeOf(vault.rotate({ name: 'nope', value: 'x1234' }, 'test'))).toBe('secret_not_found');
    expect(await codeOf(vault.reveal('nope'))).toBe('secret_not_found');
    expect(await codeOf(vault.delete('nope', 'test'))).toBe('secret_not_found');
    expect(await vault.list()).toEqual([]);

    await vault.set({ name: 'gone', value: newValue() }, 'test');
    expect(await vault.delete('gone', 'test')).toMatchObject({ name: 'gone', version: 1 });
    expect(await codeOf(vault.reveal('gone'))).toBe('secret_not_found');
    expect(await codeOf(vault.info('gone'))).toBe('secret_not_found');
    // A new secret under the old name starts over.
    expect(await vault.set({ name: 'gone', value: newValue() }, 'test')).toMatchObject({ version: 1 });
  });

  it('keeps only the sealed value in the database', async () => {
    const value = newValue();
    await vault.set({ name: 'db-password', value, upstream: 'warehouse' }, 'test');
    await vault.set({ name: 'db-password', value: newValue() }, 'test');
    const rows = await rawSecretRows(fixture.gatehouse);
    expect(rows).toHaveLength(1);
    expect(String(rows[0]?.sealed_value)).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expectNoValue(JSON.stringify(rows), value);
    if (driver === 'sqlite') {
      // Nor anywhere in the database files, the write-ahead log included.
      const files = (await readdir(fixture.dataDir)).filter((file) => file.startsWith('gatehouse.db'));
      expect(files.length).toBeGreaterThan(0);
      for (const file of files)
        expectNoValue((await readFile(join(fixture.dataDir, file))).toString('latin1'), value);
    }
  });

  it('binds each sealed value to its row: copied, replayed or rebound in the database, it does not decrypt', async () => {
    const { store } = fixture.gatehouse;
    await vault.set({ name: 'alpha', value: newValue(), upstream: 'tickets' }, 'test');
    await vault.set({ name: 'beta', value: newValue(), upstream: 'tickets' }, 'test');
    const alpha = await store.secrets.find('alpha');
    const beta = await store.secrets.find('beta');
    if (!alpha || !beta) throw new Error('missing rows');

    // alpha's ciphertext pasted onto beta's row
    await store.secrets.upsert({ ...beta, sealedValue: alpha.sealedValue });
    expect(await codeOf(vault.reveal('beta'))).toBe('master_key_mismatch');

    // an old version replayed onto the rotated row
    await vault.set({ name: 'alpha', value: newValue() }, 'test');
    const rotated = await store.secrets.find('alpha');
    if (!rotated) throw new Error('missing row');
    await store.secrets.upsert({ ...rotated, sealedValue: alpha.sealedValue });
    expect(await codeOf(vault.reveal('alpha'))).toBe('master_key_mismatch');

    // the binding changed behind the vault's back
    await vault.set({ name: 'gamma', value: newValue(), upstream: 'tickets' }, 'test');
    const gamma = await store.secrets.find('gamma');
    if (!gamma) throw new Error('missing row');
    await store.secrets.upsert({ ...gamma, upstream: 'attacker' });
    expect(await codeOf(vault.reveal('gamma', { upstream: 'attacker' }))).toBe('master_key_mismatch');
  });

  it('fails clearly under a different master key, naming the secret and never the value', async () => {
    const value = newValue();
    await vault.set({ name: 'api-key', value }, 'test');
    const other = createVault({ store: fixture.gatehouse.store, clock, masterKey: randomBytes(32) });
    const error = await errorOf(other.reveal('api-key'));
    expect(error.code).toBe('master_key_mismatch');
    expect(error.message).toContain('`api-key`');
    expect(error.message).toContain('master key');
    expectNoValue(`${error.message} ${JSON.stringify(error.details ?? {})}`, value);
    // Setting it again under the new key replaces what can no longer be read.
    const replacement = newValue();
    await other.set({ name: 'api-key', value: replacement }, 'test');
    expect(await other.reveal('api-key')).toBe(replacement);
  });

  it('refuses a secret bound to another upstream; an unbound one goes anywhere', async () => {
    await vault.set({ name: 'bound', value: newValue(), upstream: 'tickets' }, 'test');
    await vault.set({ name: 'shared', value: newValue() }, 'test');
    const error = await errorOf(vault.reveal('bound', { upstream: 'wiki' }));
    expect(error.code).toBe('secret_upstream_mismatch');
    expect(error.message).toBe('secret `bound` is bound to upstream `tickets`, not `wiki`');
    expect(await vault.reveal('bound', { upstream: 'tickets' })).toMatch(/^sk-live-/);
    expect(await vault.reveal('shared', { upstream: 'wiki' })).toMatch(/^sk-live-/);
  });

  it('audits created, rotated and deleted with name, upstream and version only', async () => {
    const values = [newValue(), newValue()];
    await vault.set({ name: 'audited', value: values[0] as string, upstream: 'tickets' }, 'test:alice');
    await vault.set({ name: 'audited', value: values[1] as string, description: 'd' }, 'test:bob');
    await vault.delete('audited', 'test:carol');
    const entries = (await fixture.gatehouse.store.audit.list(0, 1000)).filter((entry) =>
      entry.action.startsWith('secret.'),
    );
    expect(entries.map(({ actor, action, target, details }) => ({ actor, action, target, details }))).toEqual(
      [
        {
          actor: 'test:alice',
          action: 'secret.created',
          target: 'secret:audited',
          details: { name: 'audited', upstream: 'tickets', version: 1 },
        },
        {
          actor: 'test:bob',
          action: 'secret.rotated',
          target: 'secret:audited',
          details: { name: 'audited', upstream: 'tickets', version: 2 },
        },
        {
          actor: 'test:carol',
          action: 'secret.deleted',
          target: 'secret:audited',
          details: { name: 'audited', upstream: 'tickets', version: 2 },
        },
      ],
    );
    const everything = JSON.stringify(await fixture.gatehouse.store.audit.list(0, 1000));
    for (const value of values) expectNoValue(everything, value);
  });

  it('validates names, values, bindings and descriptions without quoting the value', async () => {
    const cases: Array<[Parameters<typeof vault.set>[0], string]> = [
      [{ name: 'Upper', value: 'x1234' }, 'is not a secret name'],
      [{ name: '-lead', value: 'x1234' }, 'is not a secret name'],
      [{ name: 'a'.repeat(101), value: 'x1234' }, 'is not a secret name'],
      [{ name: 'ok', value: '' }, 'is empty'],
      [{ name: 'ok', value: 'a'.repeat(MAX_SECRET_BYTES + 1) }, `at most ${MAX_SECRET_BYTES}`],
      [{ name: 'ok', value: 'é'.repeat(MAX_SECRET_BYTES / 2 + 1) }, 'bytes'],
      [{ name: 'ok', value: 'abc\u0000def-very-secret' }, 'NUL'],
      [{ name: 'ok', value: 'x1234', upstream: 'Bad Upstream' }, 'is not an upstream name'],
      [{ name: 'ok', value: 'x1234', description: 'd'.repeat(1001) }, 'description'],
    ];
    for (const [input, message] of cases) {
      const error = await errorOf(vault.set(input, 'test'));
      expect(error.code).toBe('validation_failed');
      expect(error.message).toContain(message);
      if (input.value.length > 4) expect(error.message).not.toContain(input.value);
    }
    expect(await vault.list()).toEqual([]);
    expect(
      await vault.set({ name: 'a'.repeat(100), value: 'a'.repeat(MAX_SECRET_BYTES) }, 't'),
    ).toMatchObject({
      version: 1,
    });
  });
});

describe('secret names', () => {
  it('match what the configuration accepts as secret references', () => {
    const accepts = (name: string) => {
      try {
        parseConfig({
          dataDir: '/tmp/x',
          upstreams: [{ name: 'u', transport: 'stdio', command: 'x', secretEnv: { TOKEN: name } }],
        });
        return true;
      } catch {
        return false;
      }
    };
    for (const name of [
      'a',
      '0',
      'tickets-token',
      'a.b_c-d',
      'a'.repeat(100),
      'A',
      '-a',
      '.a',
      'a b',
      'a'.repeat(101),
      '',
    ]) {
      expect(SECRET_NAME_PATTERN.test(name), name).toBe(accepts(name));
    }
  });
});
