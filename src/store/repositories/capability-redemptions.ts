import type { SqlExecutor } from '../sql.js';

export interface CapabilityRedemptionRepository {
  /**
   * Records that a capability was used. True the first time; false if its `jti` was already redeemed — by this
   * process or any other replica, since the primary key decides.
   */
  redeem(jti: string, sessionId: string | null, redeemedAt: number, expiresAt: number): Promise<boolean>;
  /** Forgets redemptions of capabilities that have expired anyway; returns how many. */
  deleteExpired(before: number): Promise<number>;
}

export function createCapabilityRedemptionRepository(db: SqlExecutor): CapabilityRedemptionRepository {
  return {
    async redeem(jti, sessionId, redeemedAt, expiresAt) {
      const result = await db.run(
        `INSERT INTO capability_redemptions (jti, session_id, redeemed_at, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (jti) DO NOTHING`,
        [jti, sessionId, redeemedAt, expiresAt],
      );
      return result.changes === 1;
    },
    async deleteExpired(before) {
      return (await db.run('DELETE FROM capability_redemptions WHERE expires_at < ?', [before])).changes;
    },
  };
}
