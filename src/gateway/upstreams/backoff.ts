/** How reconnection attempts are spaced: exponential, capped, with jitter so replicas do not retry in step. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. Default 250 ms. */
  initialMs?: number;
  /** Longest delay. Default 30 s. */
  maxMs?: number;
  /** A number in [0, 1); injected in tests. Default `Math.random`. */
  random?: () => number;
}

export const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 30_000 } as const;

/**
 * The delay before retry number `attempt` (0 for the first retry): `initialMs * 2^attempt` capped at `maxMs`,
 * then "equal jitter" (a random point in its upper half), so a retry never comes sooner than half the step.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initialMs = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
  const maxMs = Math.max(initialMs, options.maxMs ?? DEFAULT_BACKOFF.maxMs);
  const random = options.random ?? Math.random;
  // 2^attempt overflows to Infinity long after it passed any sane maxMs; Math.min keeps it finite.
  const step = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt));
  return Math.round(step / 2 + random() * (step / 2));
}
