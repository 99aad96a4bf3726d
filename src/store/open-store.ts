import { join } from 'node:path';
import { openPostgresDatabase } from './postgres/postgres-database.js';
import { openSqliteDatabase } from './sqlite/sqlite-database.js';
import { createStore, type Store } from './store.js';

export type StoreConfig =
  | { driver: 'sqlite'; path?: string }
  | { driver: 'postgres'; url: string; schema?: string; maxConnections?: number };

/** Opens and migrates the configured store. SQLite defaults to `<dataDir>/gatehouse.db`. */
export async function openStore(config: StoreConfig, dataDir: string): Promise<Store> {
  const db =
    config.driver === 'sqlite'
      ? openSqliteDatabase({ path: config.path ?? join(dataDir, 'gatehouse.db') })
      : openPostgresDatabase(config);
  try {
    await db.migrate();
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  return createStore(db);
}
