/** JSON columns are TEXT on SQLite and JSONB on PostgreSQL (which node-postgres parses): accept either. */
export function readJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function writeJson(value: unknown): string {
  return JSON.stringify(value);
}

export function readFlag(value: unknown): boolean {
  return value === 1 || value === true || value === '1';
}
