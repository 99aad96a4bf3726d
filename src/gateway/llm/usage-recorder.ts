import type { LlmUsageRecord, Store } from '../../store/index.js';

export interface UsageRecorderOptions {
  /** How long a row may wait for others to share its commit. */
  flushDelayMs?: number;
  /** A batch this large is committed at once. */
  maxBatch?: number;
  log?: (line: string) => void;
}

export interface UsageRecorder {
  record(row: LlmUsageRecord): void;
  /** Commits everything recorded so far. */
  flush(): Promise<void>;
}

/**
 * Writes usage rows in batches, one transaction per batch (group commit): a SQLite commit runs on the event loop
 * and, durable, costs an fsync, which one commit per request would put in the way of the next requests. Budgets
 * therefore see a request's tokens up to `flushDelayMs` (50 ms) after it ended; a crash loses at most that much
 * metering (the audit log has every request anyway).
 */
export function createUsageRecorder(store: Store, options: UsageRecorderOptions = {}): UsageRecorder {
  const flushDelayMs = options.flushDelayMs ?? 50;
  const maxBatch = options.maxBatch ?? 1000;
  let queue: LlmUsageRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  let committing: Promise<void> = Promise.resolve();

  const commit = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0) return committing;
    const batch = queue;
    queue = [];
    committing = committing.then(() =>
      store
        .transaction(async (tx) => {
          for (const row of batch) await tx.llmUsage.insert(row);
        })
        .catch((error: unknown) =>
          options.log?.(
            `warning: ${batch.length} llm usage rows not recorded: ${error instanceof Error ? error.message : String(error)}`,
          ),
        ),
    );
    return committing;
  };

  return {
    record(row) {
      queue.push(row);
      if (queue.length >= maxBatch) void commit();
      else if (!timer) {
        timer = setTimeout(() => void commit(), flushDelayMs);
        timer.unref();
      }
    },
    flush: commit,
  };
}
