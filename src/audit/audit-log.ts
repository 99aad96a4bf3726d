import { GatehouseError } from '../errors/index.js';
import { canonicalJson } from '../lib/canonical-json.js';
import type { Clock } from '../lib/clock.js';
import type { Store } from '../store/index.js';
import { EMPTY_CHAIN_HEAD } from './chain.js';
import { findBrokenStoredEntry } from './stored-entries.js';
import type {
  AuditCheckpoint,
  AuditEntry,
  AuditEvent,
  AuditRecord,
  AuditRecorder,
  CheckpointSigner,
} from './types.js';

export interface AuditLogOptions {
  store: Store;
  clock: Clock;
  /** Signs checkpoints; without one the log writes no checkpoints. */
  signer?: CheckpointSigner;
  /** Checkpoint after about this many committed entries (at the next batch boundary); 0 disables. */
  checkpointEvery?: number;
  /** Also checkpoint on this period when the head has moved; 0 disables. */
  checkpointIntervalMs?: number;
  /** The most entries one transaction commits. */
  maxBatch?: number;
  /** Automatic checkpoints run in the background; their failures land here and are retried later. */
  onCheckpointError?: (error: unknown) => void;
}

/** The audit log: an `AuditRecorder` with group commit and signed checkpoints. */
export interface AuditLog extends AuditRecorder {
  /** Resolves once every record made before the call is settled and pending checkpoints are written. */
  flush(): Promise<void>;
  /** Signs and stores a checkpoint of the current head; undefined if the chain is empty or already covered. */
  checkpointNow(): Promise<AuditCheckpoint | undefined>;
  /** Flushes, writes a final checkpoint when a signer is set, and stops the timer. Later records reject. */
  close(): Promise<void>;
}

export const AUDIT_LOG_DEFAULTS = {
  checkpointEvery: 10_000,
  checkpointIntervalMs: 60_000,
  maxBatch: 1_000,
} as const;

interface Pending {
  time: string;
  actor: string;
  action: string;
  target: string | null;
  /** RFC 8785 text of details, taken at record time: what is hashed and stored, immune to later mutation. */
  detailsJson: string;
  resolve: (entry: AuditEntry) => void;
  reject: (error: unknown) => void;
}

/**
 * Creates the audit log. `record()` only stamps and enqueues; one flush at a time commits everything queued
 * (up to `maxBatch` entries a transaction) through `store.appendAudit`, so many concurrent records share one
 * transaction and one fsync, and each promise resolves only after its entry is durable.
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { store, clock, signer } = options;
  const maxBatch = Math.max(1, options.maxBatch ?? AUDIT_LOG_DEFAULTS.maxBatch);
  const checkpointEvery = signer ? (options.checkpointEvery ?? AUDIT_LOG_DEFAULTS.checkpointEvery) : 0;
  const checkpointIntervalMs = signer
    ? (options.checkpointIntervalMs ?? AUDIT_LOG_DEFAULTS.checkpointIntervalMs)
    : 0;
  const onCheckpointError = options.onCheckpointError ?? (() => {});

  let queue: Pending[] = [];
  let flushScheduled = false;
  let draining: Promise<void> | undefined;
  let closed = false;
  let sinceCheckpoint = 0;
  // Checkpoints run one after another so two never sign the same head.
  let checkpointTail: Promise<unknown> = Promise.resolve();

  const scheduleFlush = () => {
    if (flushScheduled || draining) return;
    flushScheduled = true;
    // setImmediate, not a microtask: records made in the same tick land in one batch, and a SQLite transaction
    // (synchronous underneath) never interleaves with another connection's in this process.
    setImmediate(() => {
      flushScheduled = false;
      draining = drain().finally(() => {
        draining = undefined;
        if (queue.length > 0) scheduleFlush();
      });
    });
  };

  const commit = async (batch: Pending[]) => {
    let entries: AuditEntry[];
    try {
      const events: AuditEvent[] = batch.map((pending) => ({
        time: pending.time,
        actor: pending.actor,
        action: pending.action,
        target: pending.target,
        detailsJson: pending.detailsJson,
      }));
      entries = await store.appendAudit(events);
    } catch (cause) {
      for (const pending of batch) pending.reject(unavailable(cause));
      return;
    }
    for (let index = 0; index < batch.length; index += 1) {
      (batch[index] as Pending).resolve(entries[index] as AuditEntry);
    }
    sinceCheckpoint += entries.length;
    if (checkpointEvery > 0 && sinceCheckpoint >= checkpointEvery) {
      sinceCheckpoint = 0;
      // In the background: the next batch need not wait for a signature.
      checkpointNow().catch(onCheckpointError);
    }
  };

  const drain = async () => {
    while (queue.length > 0) {
      let batch: Pending[];
      if (queue.length <= maxBatch) {
        batch = queue;
        queue = [];
      } else {
        batch = queue.splice(0, maxBatch);
      }
      await commit(batch);
    }
  };

  const writeCheckpoint = async (): Promise<AuditCheckpoint | undefined> => {
    if (!signer) return undefined;
    const head = await store.audit.head();
    if (head.seq === 0) return undefined;
    const latest = await store.audit.latestCheckpoint();
    if (latest && latest.seq >= head.seq) return undefined;
    const broken = await findBrokenStoredEntry(store, latest ?? EMPTY_CHAIN_HEAD, head.seq);
    if (broken !== undefined) {
      throw new GatehouseError(
        'audit_chain_broken',
        `the stored audit chain does not verify at seq ${broken}; no checkpoint was signed`,
      );
    }
    const payload = { seq: head.seq, hash: head.hash, time: new Date(clock.now()).toISOString() };
    const { kid, signature } = await signer.sign(payload);
    const checkpoint: AuditCheckpoint = { ...payload, kid, signature };
    // Another process may have checkpointed the same head meanwhile; theirs stands.
    return (await store.audit.insertCheckpoint(checkpoint)) ? checkpoint : undefined;
  };

  const checkpointNow = (): Promise<AuditCheckpoint | undefined> => {
    if (!signer) {
      return Promise.reject(new GatehouseError('invalid_config', 'audit checkpoints need a `signer`'));
    }
    const run = checkpointTail.then(writeCheckpoint);
    checkpointTail = run.catch(() => {});
    return run;
  };

  const timer =
    checkpointIntervalMs > 0
      ? setInterval(() => {
          checkpointNow().catch(onCheckpointError);
        }, checkpointIntervalMs)
      : undefined;
  timer?.unref();

  const flush = async () => {
    while (queue.length > 0 || flushScheduled || draining) {
      if (draining) await draining;
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await checkpointTail;
  };

  return {
    record(record: AuditRecord): Promise<AuditEntry> {
      if (closed) return Promise.reject(new GatehouseError('audit_unavailable', 'the audit log is closed'));
      let detailsJson: string | undefined;
      let cause: unknown;
      try {
        // Canonicalized once, here: the text is what gets hashed and stored (so it equals what the store reads
        // back), and a value that cannot be stored fails alone rather than failing its whole batch later.
        detailsJson = canonicalJson(record.details ?? {});
      } catch (error) {
        cause = error;
      }
      if (detailsJson === undefined || detailsJson[0] !== '{') {
        return Promise.reject(
          new GatehouseError(
            'internal_error',
            `audit details of \`${record.action}\` are not a JSON object`,
            {
              cause,
              expose: false,
            },
          ),
        );
      }
      const time = new Date(clock.now()).toISOString();
      return new Promise<AuditEntry>((resolve, reject) => {
        queue.push({
          time,
          actor: record.actor,
          action: record.action,
          target: record.target ?? null,
          detailsJson,
          resolve,
          reject,
        });
        scheduleFlush();
      });
    },
    flush,
    checkpointNow,
    async close() {
      if (timer) clearInterval(timer);
      closed = true;
      await flush();
      // A refused final checkpoint (e.g. a tampered chain) is reported, and must not keep the process from closing.
      if (signer) await checkpointNow().catch(onCheckpointError);
    },
  };
}

function unavailable(cause: unknown): GatehouseError {
  return new GatehouseError('audit_unavailable', 'the audit log could not commit the entry', { cause });
}
