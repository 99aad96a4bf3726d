import type { SqlExecutor } from '../sql.js';

/** The ledger of client-assertion `jti`s already seen: single use is enforced by the primary key, not memory. */
export interface UsedAssertionRepository {
  /** Records a jti; false if it was already recorded (a replay). */
  record(agentId: string, jti: string, expiresAt: number): Promise<boolean>;
  /** Forgets jtis whose assertions have expired (they can no longer be replayed); returns how many. */
  purgeExpired(now: number): Promise<number>;
}

export function createUsedAssertionRepository(db: SqlExecutor): UsedAssertionRepository {
  return {
    async record(agentId, jti, expiresAt) {
      const result = await db.run(
        'INSERT INTO used_assertions (agent_id, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
        [agentId, jti, expiresAt],
      );
      return result.changes === 1;
    },
    async purgeExpired(now) {
      return (await db.run('DELETE FROM used_assertions WHERE expires_at < ?', [now])).changes;
    },
  };
}
