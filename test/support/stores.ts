import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store, type StoreConfig } from '../../src/store/index.js';

/** The PostgreSQL the suite requires (CI starts the machine's server); a missing server fails, never skips. */
export const TEST_POSTGRES_URL =
  process.env.GATEHOUSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const STORE_DRIVERS = ['sqlite', 'postgres'] as const;
export type StoreDriver = (typeof STORE_DRIVERS)[number];

export interface TestStore {
  store: Store;
  config: StoreConfig;
  dataDir: string;
  /** Opens another store on the same SQLite file or PostgreSQL schema: another process or replica. */
  reopen(): Promise<Store>;
  /** Closes the store and every reopened one, and removes the file or schema. */
  dispose(): Promise<void>;
}

/** A fresh, migrated store: a temp SQLite file, or a PostgreSQL schema of its own so runs never interfere. */
export async function openTestStore(driver: StoreDriver): Promise<TestStore> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-test-'));
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const config: StoreConfig =
    driver === 'sqlite'
      ? { driver: 'sqlite', path: join(dataDir, 'gatehouse.db') }
      : { driver: 'postgres', url: TEST_POSTGRES_URL, schema, maxConnections: 4 };
  const store = await openStore(config, dataDir);
  const opened = [store];
  return {
    store,
    config,
    dataDir,
    async reopen() {
      const another = await openStore(config, dataDir);
      opened.push(another);
      return another;
    },
    async dispose() {
      await Promise.all(opened.map((each) => each.close().catch(() => {})));
      if (driver === 'postgres') await dropSchema(schema);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Drops a PostgreSQL schema and all in it; `url` names the server, the suite's by default. */
export async function dropSchema(schema: string, url = TEST_POSTGRES_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
