import type { Clock } from '../lib/clock.js';
import type { Vault } from '../vault/index.js';
import { EVENT_HEADER, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature.js';

export interface WebhookTarget {
  url: string;
  /** Vault secret name of the HMAC key. */
  secret: string;
}

export interface WebhookNotifier {
  /** Queues a delivery to every target and returns at once: the call path never waits for a receiver. */
  send(type: string, payload: Record<string, unknown>): void;
  /** Waits (bounded) for deliveries in flight. */
  close(): Promise<void>;
}

const ATTEMPTS = 4;
const FIRST_BACKOFF_MS = 250;
const REQUEST_TIMEOUT_MS = 5000;

/**
 * Signed webhook deliveries: JSON POSTs with `X-Gatehouse-Event`, `X-Gatehouse-Timestamp` and
 * `X-Gatehouse-Signature`, retried with exponential backoff (0.25 s, 0.5 s, 1 s) on a network error or a
 * non-2xx answer, then given up with a log line.
 */
export function createWebhookNotifier(deps: {
  targets: readonly WebhookTarget[];
  vault: Pick<Vault, 'reveal'>;
  clock: Clock;
  log: (line: string) => void;
}): WebhookNotifier {
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  const deliver = async (target: WebhookTarget, type: string, body: string) => {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
      try {
        const secret = await deps.vault.reveal(target.secret);
        const timestamp = String(Math.floor(deps.clock.now() / 1000));
        const response = await fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [EVENT_HEADER]: type,
            [TIMESTAMP_HEADER]: timestamp,
            [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        await response.body?.cancel();
        if (response.ok) return;
        if (attempt === ATTEMPTS) {
          deps.log(`warning: approval webhook ${target.url} answered ${response.status}; gave up`);
        }
      } catch (error) {
        if (attempt === ATTEMPTS) {
          deps.log(
            `warning: approval webhook ${target.url} failed: ${error instanceof Error ? error.message : String(error)}; gave up`,
          );
        }
      }
      if (attempt < ATTEMPTS && !closed) {
        await new Promise((resolve) => setTimeout(resolve, FIRST_BACKOFF_MS * 2 ** (attempt - 1)));
      }
    }
  };

  return {
    send(type, payload) {
      if (closed || deps.targets.length === 0) return;
      const body = JSON.stringify({ type, sentAt: new Date(deps.clock.now()).toISOString(), ...payload });
      for (const target of deps.targets) {
        const delivery = deliver(target, type, body).finally(() => inFlight.delete(delivery));
        inFlight.add(delivery);
      }
    },
    async close() {
      closed = true;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((resolve) => setTimeout(resolve, 2000).unref()),
      ]);
    },
  };
}
