import pg from 'pg';
import { GatehouseError } from '../../errors/index.js';
import { MIGRATIONS, migrationSql } from '../migrations.js';
import { type SqlDatabase, type SqlExecutor, type SqlValue, UniqueViolationError } from '../sql.js';

export interface PostgresOptions {
  /** A libpq connection string, e.g. `postgres://postgres@127.0.0.1:5432/gatehouse`. */
  url: string;
  /** The schema Gatehouse's tables live in; created if missing. */
  schema?: string;
  maxConnections?: number;
}

// Arbitrary constants naming Gatehouse's advisory locks.
const MIGRATION_LOCK = 7_400_001;
const AUDIT_CHAIN_LOCK = 7_400_002;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** node-postgres behind the async SQL port: a pool, `?` placeholders rewritten to `$n`, int8 read as number. */
export function openPostgresDatabase(options: PostgresOptions): SqlDatabase {
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) {
    throw new GatehouseError(
      'invalid_config',
      `postgres schema \`${schema}\` must match ${SCHEMA_NAME.source}`,
    );
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    options: `-c search_path=${schema}`,
    connectionTimeoutMillis: 5000,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === pg.types.builtins.INT8
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});

  const executorFor = (client: pg.Pool | pg.PoolClient): SqlExecutor => ({
    dialect: 'postgres',
    all: async <Row>(sql: string, params: readonly SqlValue[] = []) =>
      (await query(client, sql, params)).rows as Row[],
    get: async <Row>(sql: string, params: readonly SqlValue[] = []) =>
      (await query(client, sql, params)).rows[0] as Row | undefined,
    run: async (sql: string, params: readonly SqlValue[] = []) => ({
      changes: (await query(client, sql, params)).rowCount ?? 0,
    }),
    runMany: async (sql: string, rows: readonly (readonly SqlValue[])[]) => {
      let changes = 0;
      for (const params of rows) changes += (await query(client, sql, params)).rowCount ?? 0;
      return { changes };
    },
  });

  const withClient = async <T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (cause) {
      throw new GatehouseError('store_unavailable', 'the postgres store is unavailable', { cause });
    }
    let broken = false;
    try {
      return await fn(client);
    } catch (error) {
      broken = error instanceof GatehouseError && error.code === 'store_unavailable';
      throw error;
    } finally {
      client.release(broken);
    }
  };

  const pooled = executorFor(pool);
  const database: SqlDatabase = {
    ...pooled,
    transaction: (fn, transactionOptions = {}) =>
      withClient(async (client) => {
        const tx = executorFor(client);
        await tx.run('BEGIN');
        try {
          if (transactionOptions.lockAuditChain)
            await tx.run(`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`);
          const result = await fn(tx);
          await tx.run('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw error;
        }
      }),
    migrate: () =>
      withClient(async (client) => {
        const tx = executorFor(client);
        await tx.run(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await tx.run('BEGIN');
        try {
          await tx.run(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
          await tx.run(
            'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
          );
          const applied = new Set(
            (await tx.all<{ version: number }>('SELECT version FROM schema_migrations')).map(
              (row) => row.version,
            ),
          );
          for (const migration of MIGRATIONS) {
            if (applied.has(migration.version)) continue;
            await client.query(migrationSql(migration, 'postgres'));
            await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
              migration.version,
              migration.name,
              Date.now(),
            ]);
          }
          await tx.run('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw error;
        }
      }),
    async ping() {
      await pooled.get('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
  return database;
}

const placeholderCache = new Map<string, string>();

/** Rewrites `?` placeholders to `$1..$n`. Repositories never put a literal `?` in SQL. */
function toPositional(sql: string): string {
  let text = placeholderCache.get(sql);
  if (text === undefined) {
    let index = 0;
    text = sql.replace(/\?/g, () => `$${++index}`);
    if (placeholderCache.size > 2000) placeholderCache.clear();
    placeholderCache.set(sql, text);
  }
  return text;
}

const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57P01',
  '57P03',
]);

async function query(client: pg.Pool | pg.PoolClient, sql: string, params: readonly SqlValue[]) {
  try {
    return await client.query(toPositional(sql), params as SqlValue[]);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '23505') {
      throw new UniqueViolationError((error as { constraint?: string }).constraint, { cause: error });
    }
    if (
      (code !== undefined && CONNECTION_ERRORS.has(code)) ||
      (error instanceof Error &&
        /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
          error.message,
        ))
    ) {
      throw new GatehouseError('store_unavailable', 'the postgres store is unavailable', { cause: error });
    }
    throw error;
  }
}
