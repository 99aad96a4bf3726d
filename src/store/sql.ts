/**
 * The small SQL port both adapters implement. Repositories are written once against it with `?` placeholders;
 * the PostgreSQL adapter rewrites them to `$n`. Values are strings, numbers, null, or JSON text.
 */
export type SqlScalar = string | number | null;
/** Arrays are for PostgreSQL array parameters (`unnest(?::text[])`); node-postgres encodes them. */
export type SqlValue = SqlScalar | readonly SqlScalar[];

export type SqlDialect = 'sqlite' | 'postgres';

export interface SqlExecutor {
  readonly dialect: SqlDialect;
  all<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  get<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /** Runs one statement once per parameter row: on SQLite a synchronous loop over one prepared statement. */
  runMany(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<{ changes: number }>;
}

export interface TransactionOptions {
  /**
   * Serialise with every other writer of the audit chain (across processes and replicas), so the head read in
   * this transaction is still the head at commit. SQLite's write lock already does this; PostgreSQL takes an
   * advisory transaction lock.
   */
  lockAuditChain?: boolean;
}

export interface SqlDatabase extends SqlExecutor {
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Applies pending migrations; safe to call from several processes at once. */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A unique or primary-key constraint refused a write; repositories turn it into a domain error. */
export class UniqueViolationError extends Error {
  constructor(
    readonly constraint: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`unique constraint violated${constraint ? `: ${constraint}` : ''}`, options);
    this.name = 'UniqueViolationError';
  }
}
