import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { GatehouseError } from '../../errors/index.js';
import { MIGRATIONS, migrationSql } from '../migrations.js';
import { type SqlDatabase, type SqlExecutor, type SqlValue, UniqueViolationError } from '../sql.js';

export interface SqliteOptions {
  /** A file path, or `:memory:`. */
  path: string;
  /** How long a writer waits for another process's write lock before failing, in ms. */
  busyTimeoutMs?: number;
}

/**
 * better-sqlite3 behind the async SQL port. One connection per process; WAL so readers never block the writer,
 * synchronous=FULL so a committed (acknowledged) transaction survives power loss. Transactions take the write
 * lock up front (BEGIN IMMEDIATE) and hold an in-process lock so no other statement interleaves across awaits.
 */
export function openSqliteDatabase(options: SqliteOptions): SqlDatabase {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(options.path);
  } catch (cause) {
    throw new GatehouseError('store_unavailable', `cannot open sqlite database \`${options.path}\``, {
      cause,
    });
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);

  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      if (statements.size > 2000) statements.clear();
      statements.set(sql, statement);
    }
    return statement;
  };

  const direct: SqlExecutor = {
    dialect: 'sqlite',
    all: async <Row>(sql: string, params: readonly SqlValue[] = []) =>
      translate(() => prepare(sql).all(...params) as Row[]),
    get: async <Row>(sql: string, params: readonly SqlValue[] = []) =>
      translate(() => prepare(sql).get(...params) as Row | undefined),
    run: async (sql: string, params: readonly SqlValue[] = []) =>
      translate(() => ({ changes: prepare(sql).run(...params).changes })),
    runMany: async (sql: string, rows: readonly (readonly SqlValue[])[]) =>
      translate(() => {
        const statement = prepare(sql);
        let changes = 0;
        for (const params of rows) changes += statement.run(...params).changes;
        return { changes };
      }),
  };

  let transactionLock: Promise<void> | null = null;
  const database: SqlDatabase = {
    dialect: 'sqlite',
    all: async (sql, params) => {
      // Checked and run in one synchronous step, so no statement lands inside another caller's transaction.
      while (transactionLock) await transactionLock;
      return direct.all(sql, params);
    },
    get: async (sql, params) => {
      // Checked and run in one synchronous step, so no statement lands inside another caller's transaction.
      while (transactionLock) await transactionLock;
      return direct.get(sql, params);
    },
    run: async (sql, params) => {
      // Checked and run in one synchronous step, so no statement lands inside another caller's transaction.
      while (transactionLock) await transactionLock;
      return direct.run(sql, params);
    },
    runMany: async (sql, rows) => {
      while (transactionLock) await transactionLock;
      return direct.runMany(sql, rows);
    },
    async transaction(fn) {
      while (transactionLock) await transactionLock;
      let release = (): void => {};
      transactionLock = new Promise((resolve) => {
        release = resolve;
      });
      try {
        translate(() => db.exec('BEGIN IMMEDIATE'));
        try {
          const result = await fn(direct);
          translate(() => db.exec('COMMIT'));
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw error;
        }
      } finally {
        transactionLock = null;
        release();
      }
    },
    async migrate() {
      await database.transaction(async (tx) => {
        await tx.run(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
        );
        const applied = new Set(
          (await tx.all<{ version: number }>('SELECT version FROM schema_migrations')).map(
            (row) => row.version,
          ),
        );
        for (const migration of MIGRATIONS) {
          if (applied.has(migration.version)) continue;
          db.exec(migrationSql(migration, 'sqlite'));
          await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
            migration.version,
            migration.name,
            Date.now(),
          ]);
        }
      });
    },
    async ping() {
      await database.get('SELECT 1');
    },
    async close() {
      while (transactionLock) await transactionLock;
      if (db.open) db.close();
    },
  };
  return database;
}

function translate<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      throw new UniqueViolationError(uniqueColumns(error), { cause: error });
    }
    if (
      code === 'SQLITE_BUSY' ||
      code === 'SQLITE_CANTOPEN' ||
      code === 'SQLITE_IOERR' ||
      code === 'SQLITE_FULL'
    ) {
      throw new GatehouseError('store_unavailable', 'the sqlite store is unavailable', { cause: error });
    }
    throw error;
  }
}

/** `UNIQUE constraint failed: teams.name` -> `teams.name`, so callers can tell which key collided. */
function uniqueColumns(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : '';
  return /constraint failed: (.+)$/.exec(message)?.[1];
}
