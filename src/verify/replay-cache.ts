/**
 * Where a verifier remembers the `jti` of every capability it accepted, until the capability can no longer
 * verify. Several tool-server replicas that must share single use need a shared cache (Redis, a database):
 * make `add` an atomic set-if-absent that returns false when the `jti` was already there, or two replicas can
 * both accept the same capability in the instant between `has` and `add`.
 */
export interface ReplayCache {
  /** True when `jti` was accepted before and has not expired from the cache. */
  has(jti: string): boolean | Promise<boolean>;
  /**
   * Remembers `jti` until `expiresAt` (milliseconds since the epoch). Returning false means it was already
   * there (the capability is refused as replayed); true or nothing means it was added.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: callers may implement it as a plain void method
  add(jti: string, expiresAt: number): boolean | void | Promise<boolean | void>;
}

export interface MemoryReplayCacheOptions {
  /** The most `jti`s kept; past it the oldest entry is dropped. Default 100 000. */
  maxEntries?: number;
  /** The time in milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
}

/** A ReplayCache in process memory, bounded in size, for a verifier in a single process. */
export interface MemoryReplayCache extends ReplayCache {
  has(jti: string): boolean;
  add(jti: string, expiresAt: number): boolean;
  /** How many `jti`s are held, expired ones not yet dropped included. */
  readonly size: number;
}

/**
 * Creates the default in-memory replay cache. Entries leave when their capability expires; when the cache is
 * full the oldest entry is dropped first. Capabilities live at most 60 s, so dropping one that is still valid
 * takes more than `maxEntries` accepted capabilities within a minute: size it above the server's peak rate.
 */
export function createMemoryReplayCache(options: MemoryReplayCacheOptions = {}): MemoryReplayCache {
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new TypeError('maxEntries must be a positive integer');
  const now = options.now ?? Date.now;
  // Insertion order is nearly expiry order (every capability lives at most a minute), so the head is where
  // expired entries collect.
  const entries = new Map<string, number>();

  const dropExpiredHead = (at: number): void => {
    for (const [jti, expiresAt] of entries) {
      if (expiresAt > at) return;
      entries.delete(jti);
    }
  };

  const has = (jti: string): boolean => {
    const expiresAt = entries.get(jti);
    if (expiresAt === undefined) return false;
    if (expiresAt > now()) return true;
    entries.delete(jti);
    return false;
  };

  return {
    has,
    add(jti, expiresAt) {
      if (has(jti)) return false;
      dropExpiredHead(now());
      while (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
      entries.set(jti, expiresAt);
      return true;
    },
    get size() {
      return entries.size;
    },
  };
}
