import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { parseConfig } from '../../src/config/index.js';
import { createAdminToken } from '../../src/identity/admin-tokens.js';
import type { Clock } from '../../src/lib/clock.js';
import { buildApp } from '../../src/server/app.js';
import { createGatehouse, type Gatehouse } from '../../src/server/create-gatehouse.js';
import { openTestStore, type StoreDriver } from './stores.js';

export interface TestGatehouse {
  gatehouse: Gatehouse;
  app: FastifyInstance;
  /** An admin-role bearer secret. */
  admin: string;
  dataDir: string;
  dispose(): Promise<void>;
}

const BOOTSTRAP = { actor: 'test:bootstrap', role: 'admin' as const, userId: null };

/** A Gatehouse on a fresh store with the HTTP app built for in-process `inject()` calls. */
export async function createTestGatehouse(
  options: { driver?: StoreDriver; clock?: Clock; config?: Record<string, unknown> } = {},
): Promise<TestGatehouse> {
  const storeFixture = await openTestStore(options.driver ?? 'sqlite');
  // The fixture's store only created the schema; Gatehouse opens its own connection to it.
  await storeFixture.store.close();
  const config = parseConfig({
    dataDir: storeFixture.dataDir,
    store: storeFixture.config,
    masterKey: randomBytes(32).toString('base64'),
    server: { publicUrl: 'http://gatehouse.test' },
    ...options.config,
  });
  const gatehouse = await createGatehouse(config, { clock: options.clock });
  const app = await buildApp(gatehouse);
  const { secret } = await createAdminToken(gatehouse, BOOTSTRAP, { role: 'admin', name: 'test admin' });
  return {
    gatehouse,
    app,
    admin: secret,
    dataDir: storeFixture.dataDir,
    async dispose() {
      await app.close();
      await gatehouse.close();
      await storeFixture.dispose().catch(() => {});
    },
  };
}

/** `inject` with a bearer token and a JSON body. */
export async function api(
  fixture: TestGatehouse,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  body?: unknown,
  token: string | null = fixture.admin,
) {
  const response = await fixture.app.inject({
    method,
    url,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read fields of known API responses
  let json: any;
  try {
    json = response.json();
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, body: json, text: response.body };
}
