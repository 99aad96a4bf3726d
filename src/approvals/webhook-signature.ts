import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-gatehouse-signature';
export const TIMESTAMP_HEADER = 'x-gatehouse-timestamp';
export const EVENT_HEADER = 'x-gatehouse-event';

/**
 * The `X-Gatehouse-Signature` value: `sha256=` and the hex HMAC-SHA256, keyed with the webhook secret, of
 * `<timestamp>.<body>` (the timestamp is the `X-Gatehouse-Timestamp` header, Unix seconds).
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** Checks a received signature in constant time; receivers should also refuse old timestamps (replays). */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string,
  body: string,
  signature: string,
): boolean {
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
