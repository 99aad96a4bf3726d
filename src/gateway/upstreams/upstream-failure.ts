import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError, isGatehouseError } from '../../errors/index.js';
import type { Redact } from './secret-redactor.js';

/** Longest failure text kept in `lastError` or put in an error message. */
const MAX_REASON = 300;

/** A short, redacted description of anything thrown, for `lastError` and logs. */
export function describeFailure(error: unknown, redact: Redact): string {
  let text: string;
  if (error instanceof Error) {
    text = error.message || error.name;
    // undici says only "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND...) is in the cause.
    const cause = (error as { cause?: unknown }).cause;
    if (error instanceof TypeError && cause instanceof Error) {
      text += `: ${(cause as { code?: string }).code ?? cause.message}`;
    }
    if (error instanceof StreamableHTTPError && error.code !== undefined && error.code > 0) {
      text = `HTTP ${error.code}: ${text}`;
    }
  } else {
    text = String(error);
  }
  const clean = redact(text).replace(/\s+/g, ' ').trim();
  return clean.length > MAX_REASON ? `${clean.slice(0, MAX_REASON)}…` : clean;
}

/** Whether a request failed because the connection itself is gone (as opposed to the upstream answering). */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof McpError) return error.code === ErrorCode.ConnectionClosed;
  if (error instanceof StreamableHTTPError) return true;
  if (error instanceof TypeError && error.message === 'fetch failed') return true;
  return error instanceof Error && error.message === 'Not connected';
}

export interface FailureContext {
  upstream: string;
  /** What was asked, for messages, e.g. "tool `fs.read_file`". */
  subject: string;
  timeoutMs: number;
  /** The caller's signal: when it fired, the failure is a cancellation whatever the SDK says. */
  signal: AbortSignal | undefined;
  redact: Redact;
}

/**
 * Maps a failed upstream request to the Gatehouse error callers see: `call_cancelled` (the caller aborted),
 * `upstream_timeout`, `upstream_unavailable` (no connection, or it broke during the request) or
 * `upstream_error` (the upstream answered with a JSON-RPC error, or something that is not a valid answer).
 * All are safe to show (`expose`): the messages are ours, and anything quoted from the upstream is redacted.
 * No `cause` is attached: an upstream's raw error may echo what it was sent, and errors end up in logs.
 */
export function toUpstreamError(error: unknown, context: FailureContext): GatehouseError {
  const { upstream, subject, timeoutMs, signal, redact } = context;
  const details = { upstream };
  if (signal?.aborted) {
    // AbortSignal.timeout() aborts with a TimeoutError: the caller's deadline, reported as a timeout.
    const reason: unknown = signal.reason;
    if (reason instanceof Error && reason.name === 'TimeoutError') {
      return new GatehouseError('upstream_timeout', `${subject} timed out (caller deadline)`, {
        details,
        expose: true,
      });
    }
    return new GatehouseError('call_cancelled', `${subject} was cancelled`, { details, expose: true });
  }
  if (isGatehouseError(error)) return error;
  if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
    return new GatehouseError('upstream_timeout', `${subject} timed out after ${timeoutMs} ms`, {
      details: { ...details, timeoutMs },
      expose: true,
    });
  }
  if (isConnectionFailure(error)) {
    return new GatehouseError(
      'upstream_unavailable',
      `upstream \`${upstream}\` connection failed during ${subject}`,
      {
        details,
        expose: true,
      },
    );
  }
  if (error instanceof McpError) {
    return new GatehouseError(
      'upstream_error',
      `upstream \`${upstream}\` failed ${subject}: ${describeFailure(error, redact)}`,
      {
        details: { ...details, rpcCode: error.code },
        expose: true,
      },
    );
  }
  // A result that does not parse (zod), an output-schema violation caught locally, or anything else.
  return new GatehouseError(
    'upstream_error',
    `upstream \`${upstream}\` gave an invalid answer to ${subject}`,
    {
      details,
      expose: true,
    },
  );
}

/** The upstream is down, or was never reachable. */
export function upstreamUnavailable(upstream: string, state: string): GatehouseError {
  return new GatehouseError('upstream_unavailable', `upstream \`${upstream}\` is unavailable`, {
    details: { upstream, state },
    expose: true,
  });
}
