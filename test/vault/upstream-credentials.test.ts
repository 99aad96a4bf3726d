import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type UpstreamConfig } from '../../src/config/index.js';
import { GatehouseError } from '../../src/errors/index.js';
import { resolveUpstreamCredentials, type Vault } from '../../src/vault/index.js';
import { createTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { STORE_DRIVERS } from '../support/stores.js';

const newValue = () => `tok_${randomBytes(16).toString('hex')}`;

function upstream(input: Record<string, unknown>): UpstreamConfig {
  const [parsed] = parseConfig({ dataDir: '/tmp/unused', upstreams: [input] }).upstreams;
  if (!parsed) throw new Error('no upstream');
  return parsed;
}

const stdio = (secretEnv: Record<string, string>) =>
  upstream({ name: 'files', transport: 'stdio', command: 'mcp-files', env: { PLAIN: '1' }, secretEnv });
const http = (secretHeaders: Record<string, unknown>) =>
  upstream({ name: 'tickets', transport: 'http', url: 'https://tickets.example/mcp', secretHeaders });

async function errorOf(promise: Promise<unknown>): Promise<GatehouseError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatehouseError) return error;
    throw error;
  }
  throw new Error('expected a GatehouseError');
}

describe.each(STORE_DRIVERS)('resolveUpstreamCredentials on %s', (driver) => {
  let fixture: TestGatehouse;
  let vault: Vault;
  beforeEach(async () => {
    fixture = await createTestGatehouse({ driver });
    vault = fixture.gatehouse.vault;
  });
  afterEach(async () => {
    await fixture.dispose();
  });

  it('gives a stdio upstream its secrets as environment variables, and nothing else', async () => {
    const token = newValue();
    const key = `-----BEGIN KEY-----\n${newValue()}\n-----END KEY-----\n`;
    await vault.set({ name: 'files-token', value: token, upstream: 'files' }, 'test');
    await vault.set({ name: 'signing-key', value: key }, 'test');
    expect(
      await resolveUpstreamCredentials(
        vault,
        stdio({ FILES_TOKEN: 'files-token', SIGNING_KEY: 'signing-key', ALSO_TOKEN: 'files-token' }),
      ),
    ).toEqual({ env: { FILES_TOKEN: token, SIGNING_KEY: key, ALSO_TOKEN: token } });
    expect(await resolveUpstreamCredentials(vault, stdio({}))).toEqual({ env: {} });
  });

  it('gives an HTTP upstream its secrets as headers, with their prefixes', async () => {
    const token = newValue();
    const apiKey = newValue();
    await vault.set({ name: 'tickets-token', value: token, upstream: 'tickets' }, 'test');
    await vault.set({ name: 'tickets-key', value: apiKey }, 'test');
    expect(
      await resolveUpstreamCredentials(
        vault,
        http({
          Authorization: { secret: 'tickets-token', prefix: 'Bearer ' },
          'X-Api-Key': { secret: 'tickets-key' },
        }),
      ),
    ).toEqual({ headers: { Authorization: `Bearer ${token}`, 'X-Api-Key': apiKey } });
  });

  it('names every missing secret, never a value', async () => {
    const present = newValue();
    await vault.set({ name: 'present', value: present }, 'test');
    const error = await errorOf(
      resolveUpstreamCredentials(
        vault,
        stdio({ A: 'present', B: 'absent-one', C: 'absent-two', D: 'absent-one' }),
      ),
    );
    expect(error.code).toBe('secret_not_found');
    expect(error.message).toBe(
      'upstream `files` needs secrets the vault does not hold: `absent-one`, `absent-two` (add with `gatehouse secrets set`)',
    );
    expect(error.details).toEqual({ upstream: 'files', secrets: ['absent-one', 'absent-two'] });
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(present);
  });

  it('refuses a secret bound to another upstream', async () => {
    const value = newValue();
    await vault.set({ name: 'files-token', value, upstream: 'files' }, 'test');
    const error = await errorOf(
      resolveUpstreamCredentials(
        vault,
        http({ Authorization: { secret: 'files-token', prefix: 'Bearer ' } }),
      ),
    );
    expect(error.code).toBe('secret_upstream_mismatch');
    expect(error.message).toBe('secret `files-token` is bound to upstream `files`, not `tickets`');
    expect(error.message).not.toContain(value);
  });

  it('refuses a value that would split an HTTP header, without quoting it', async () => {
    const value = `${newValue()}\r\nX-Injected: yes`;
    await vault.set({ name: 'multi-line', value }, 'test');
    const error = await errorOf(
      resolveUpstreamCredentials(vault, http({ Authorization: { secret: 'multi-line' } })),
    );
    expect(error.code).toBe('secret_unusable');
    expect(error.message).toContain('`multi-line`');
    expect(error.message).toContain('`Authorization`');
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(
      value.slice(0, 20),
    );
    // The same value is fine in an environment variable.
    expect(await resolveUpstreamCredentials(vault, stdio({ MULTI: 'multi-line' }))).toEqual({
      env: { MULTI: value },
    });
  });
});
