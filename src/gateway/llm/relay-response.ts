import type { ServerResponse } from 'node:http';
import { GatehouseError } from '../../errors/index.js';
import type { ProviderKind } from './operations.js';
import { agentResponseHeaders, type ProviderResponse } from './provider-request.js';
import type { UsageMeter } from './usage-meter.js';
import { streamErrorEvent, toWireError } from './wire-errors.js';

/**
 * A non-streamed body up to this size is relayed once whole (providers send it at once when the answer is
 * ready): a body cut short becomes a clean error, and a provider key quoted in it is taken out. Past it, the
 * body is piped on as it comes and its usage read from its tail.
 */
const MAX_BUFFERED_BODY = 16 * 1024 * 1024;
const METERED_TAIL = 64 * 1024;
/** What the audit keeps of a response when `llm.storeBodies` is on. */
const MAX_STORED_BODY = 1024 * 1024;
const REDACTED = '[redacted]';

export type RelayOutcome =
  | 'ok'
  | `http_${number}`
  | 'provider_stream_interrupted'
  | 'provider_timeout'
  | 'client_closed';

export interface RelayResult {
  status: number;
  outcome: RelayOutcome;
  /** Milliseconds from the start of the relay to the first body bytes written to the agent. */
  firstByteMs: number | null;
  /** The response body, when asked for (at most 1 MiB). */
  body?: string;
}

export interface RelayInput {
  response: ProviderResponse;
  raw: ServerResponse;
  kind: ProviderKind;
  meter: UsageMeter;
  /** The provider key, to take out of anything a provider might echo it in. */
  providerKey: string;
  headers: Record<string, string>;
  captureBody: boolean;
}

/**
 * Relays the provider's response to the agent. Server-sent events are forwarded as they arrive, event by event
 * (a chunk that ends mid-event waits only for the rest of that event), so the agent never receives half an
 * event; a stream the provider breaks off, lets stall past its timeout, or ends without its final event is
 * closed with an error event in the provider's format. A non-streamed body is relayed once it is whole (see
 * MAX_BUFFERED_BODY), so a cut-off one becomes a clean error. A provider key quoted anywhere is redacted.
 */
export function relayResponse(input: RelayInput): Promise<RelayResult> {
  const { message } = input.response;
  const status = message.statusCode ?? 502;
  const contentType = String(message.headers['content-type'] ?? '');
  const encoding = message.headers['content-encoding'];
  // Asked for identity, a provider still compressed: pass the bytes through unread (usage unknown).
  if (encoding !== undefined && encoding !== 'identity') return relayOpaque(input, status);
  return contentType.includes('text/event-stream') ? relayStream(input, status) : relayBody(input, status);
}

function relayOpaque(input: RelayInput, status: number): Promise<RelayResult> {
  const { raw, response } = input;
  const { message } = response;
  raw.writeHead(status, { ...agentResponseHeaders(message.headers), ...input.headers });
  const started = performance.now();
  let firstByteMs: number | null = null;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: RelayOutcome) => {
      if (settled) return;
      settled = true;
      resolve({ status, outcome, firstByteMs });
    };
    message.on('data', (chunk: Buffer) => {
      firstByteMs ??= performance.now() - started;
      if (!raw.write(chunk)) {
        message.pause();
        raw.once('drain', () => message.resume());
      }
    });
    message.on('end', () => {
      raw.end();
      finish(status >= 400 ? `http_${status}` : 'ok');
    });
    message.on('close', () => {
      if (message.complete || settled) return;
      raw.destroy();
      finish(response.timedOut() ? 'provider_timeout' : 'provider_stream_interrupted');
    });
    message.on('error', () => {
      // Handled by `close`.
    });
    raw.on('close', () => {
      if (settled || raw.writableFinished) return;
      message.destroy();
      finish('client_closed');
    });
  });
}

function relayStream(input: RelayInput, status: number): Promise<RelayResult> {
  const { raw, meter, response } = input;
  const { message } = response;
  const headers = agentResponseHeaders(message.headers);
  delete headers['content-length'];
  raw.writeHead(status, { ...headers, ...input.headers });
  raw.flushHeaders();
  const started = performance.now();
  let firstByteMs: number | null = null;
  let pending: Buffer | null = null;
  let stored = '';

  const forward = (events: Buffer) => {
    if (events.length === 0) return;
    // Whole events only, so a key cannot straddle two writes.
    const bytes = redactKey(events, input.providerKey);
    firstByteMs ??= performance.now() - started;
    const text = bytes.toString('utf8');
    meter.events(text);
    if (input.captureBody && stored.length < MAX_STORED_BODY) {
      stored += text.slice(0, MAX_STORED_BODY - stored.length);
    }
    if (!raw.write(bytes)) {
      message.pause();
      raw.once('drain', () => message.resume());
    }
  };

  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: RelayOutcome) => {
      if (settled) return;
      settled = true;
      resolve({ status, outcome, firstByteMs, ...(input.captureBody ? { body: stored } : {}) });
    };
    const breakOff = (code: 'provider_stream_interrupted' | 'provider_timeout', reason: string) => {
      // Half an event is dropped: the agent gets whole events, then the error.
      pending = null;
      if (!raw.writableEnded && !raw.destroyed) {
        raw.end(streamErrorEvent(input.kind, new GatehouseError(code, reason, { expose: true })));
      }
      finish(code);
    };

    message.on('data', (chunk: Buffer) => {
      const bytes: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
      // An "event" that never ends is not held forever: past the cap it goes on as it is.
      const end = bytes.length > MAX_BUFFERED_BODY ? bytes.length : eventBoundary(bytes);
      if (end === bytes.length) {
        pending = null;
        forward(bytes);
      } else {
        pending = bytes.subarray(end);
        forward(bytes.subarray(0, end));
      }
    });
    message.on('end', () => {
      if (pending) forward(pending);
      pending = null;
      if (status < 400 && !meter.finished) {
        breakOff('provider_stream_interrupted', 'the provider ended the stream before its final event');
        return;
      }
      raw.end();
      finish(status >= 400 ? `http_${status}` : 'ok');
    });
    message.on('close', () => {
      if (message.complete || settled) return;
      if (raw.destroyed) {
        finish('client_closed');
        return;
      }
      if (response.timedOut()) {
        breakOff('provider_timeout', 'the provider stopped sending in the middle of the stream');
      } else {
        breakOff('provider_stream_interrupted', 'the provider closed the stream before it ended');
      }
    });
    message.on('error', () => {
      // Handled by `close`; without a listener the error would be thrown.
    });
    raw.on('close', () => {
      if (settled || raw.writableFinished) return;
      message.destroy();
      finish('client_closed');
    });
  });
}

function relayBody(input: RelayInput, status: number): Promise<RelayResult> {
  const { raw, meter, response } = input;
  const { message } = response;
  const started = performance.now();
  const chunks: Buffer[] = [];
  let size = 0;
  // Past the cap the body is piped on as it comes; its usage is then read from its tail.
  let piping = false;
  let tail: Buffer | null = null;
  let firstByteMs: number | null = null;

  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: RelayResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const write = (bytes: Buffer) => {
      firstByteMs ??= performance.now() - started;
      if (!raw.write(bytes)) {
        message.pause();
        raw.once('drain', () => message.resume());
      }
    };
    message.on('data', (chunk: Buffer) => {
      if (piping) {
        tail = Buffer.concat([tail ?? Buffer.alloc(0), chunk]).subarray(-METERED_TAIL);
        write(chunk);
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
      if (size <= MAX_BUFFERED_BODY) return;
      piping = true;
      const head = Buffer.concat(chunks);
      chunks.length = 0;
      tail = head.subarray(-METERED_TAIL);
      raw.writeHead(status, { ...agentResponseHeaders(message.headers), ...input.headers });
      write(head);
    });
    message.on('end', () => {
      const outcome: RelayOutcome = status >= 400 ? `http_${status}` : 'ok';
      if (piping) {
        meter.json(`{${usageTail((tail ?? Buffer.alloc(0)).toString('utf8'))}}`);
        raw.end();
        finish({ status, outcome, firstByteMs });
        return;
      }
      const body = redactKey(Buffer.concat(chunks), input.providerKey);
      const text = body.toString('utf8');
      meter.json(text);
      const headers = { ...agentResponseHeaders(message.headers), ...input.headers };
      headers['content-length'] = String(body.length);
      firstByteMs = performance.now() - started;
      if (!raw.destroyed) raw.writeHead(status, headers).end(body);
      finish({
        status,
        outcome,
        firstByteMs,
        ...(input.captureBody ? { body: text.slice(0, MAX_STORED_BODY) } : {}),
      });
    });
    message.on('close', () => {
      if (message.complete || settled) return;
      if (raw.destroyed) {
        finish({ status, outcome: 'client_closed', firstByteMs });
        return;
      }
      const code = response.timedOut() ? 'provider_timeout' : 'provider_stream_interrupted';
      if (piping) {
        // Part of a body is already out: the agent sees the connection break, as it would with the provider.
        raw.destroy();
        finish({ status, outcome: code, firstByteMs });
        return;
      }
      const error = new GatehouseError(
        code,
        code === 'provider_timeout'
          ? 'the provider stopped sending in the middle of its response'
          : 'the provider closed its response before it ended',
        { expose: true },
      );
      const wire = toWireError(input.kind, error);
      raw.writeHead(wire.status, { ...wire.headers, ...input.headers }).end(JSON.stringify(wire.body));
      finish({ status: wire.status, outcome: code, firstByteMs: null });
    });
    message.on('error', () => {
      // Handled by `close`.
    });
    raw.on('close', () => {
      if (settled || raw.writableFinished) return;
      message.destroy();
      finish({ status, outcome: 'client_closed', firstByteMs });
    });
  });
}

/** The body with every occurrence of the provider key replaced (a provider may quote it in an error). */
function redactKey(body: Buffer, key: string): Buffer {
  if (key.length === 0 || body.indexOf(key) === -1) return body;
  return Buffer.from(body.toString('utf8').replaceAll(key, REDACTED), 'utf8');
}

/** The end of the last complete server-sent event in `bytes` (0 when none is complete). */
function eventBoundary(bytes: Buffer): number {
  const lf = bytes.lastIndexOf('\n\n');
  const crlf = bytes.lastIndexOf('\r\n\r\n');
  return Math.max(lf === -1 ? 0 : lf + 2, crlf === -1 ? 0 : crlf + 4);
}

/** The `"usage": {...}` member near the end of a JSON body too large to keep whole. */
function usageTail(text: string): string {
  const at = text.lastIndexOf('"usage"');
  if (at === -1) return '';
  const open = text.indexOf('{', at);
  if (open === -1) return '';
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    const char = text[i];
    if (char === '{') depth += 1;
    else if (char === '}') {
      depth -= 1;
      if (depth === 0) return `"usage":${text.slice(open, i + 1)}`;
    }
  }
  return '';
}
