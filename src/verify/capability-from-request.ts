import { CapabilityVerificationError } from './capability-verification-error.js';
import { CAPABILITY_HEADER, CAPABILITY_META_KEY } from './constants.js';

/** Node's `IncomingHttpHeaders`, a plain record, or a Fetch API `Headers`. */
export type HeaderSource =
  | { get(name: string): string | null }
  | Record<string, string | string[] | undefined>;

export interface CapabilitySources {
  /** The HTTP request headers; where Gatehouse puts the capability for HTTP upstreams. */
  headers?: HeaderSource | null;
  /** The MCP request's `params._meta`; where the capability travels for any upstream. */
  meta?: Record<string, unknown> | null;
}

/**
 * Finds the capability on an incoming request: the `gatehouse-capability` header or the MCP
 * `_meta["dev.gatehouse/capability"]` entry. Returns undefined when there is none (the verifier then refuses
 * with `capability_missing`). Two different capabilities, a repeated header or a non-string entry are refused
 * with `capability_invalid`.
 */
export function capabilityFromRequest(sources: CapabilitySources): string | undefined {
  const fromHeader = headerValue(sources.headers);
  const fromMeta = metaValue(sources.meta);
  if (fromHeader !== undefined && fromMeta !== undefined && fromHeader !== fromMeta) {
    throw new CapabilityVerificationError(
      'capability_invalid',
      `the \`${CAPABILITY_HEADER}\` header and \`_meta["${CAPABILITY_META_KEY}"]\` carry different capabilities`,
    );
  }
  return fromHeader ?? fromMeta;
}

function headerValue(headers: HeaderSource | null | undefined): string | undefined {
  if (!headers) return undefined;
  let raw: string | string[] | null | undefined;
  if (typeof headers.get === 'function') {
    raw = (headers as { get(name: string): string | null }).get(CAPABILITY_HEADER);
  } else {
    const record = headers as Record<string, string | string[] | undefined>;
    raw = record[CAPABILITY_HEADER];
    if (raw === undefined) {
      const key = Object.keys(record).find((name) => name.toLowerCase() === CAPABILITY_HEADER);
      raw = key === undefined ? undefined : record[key];
    }
  }
  if (raw === null || raw === undefined) return undefined;
  // A JWS never contains a comma; one here means the header was sent twice and joined.
  if (Array.isArray(raw) ? raw.length > 1 : raw.includes(',')) {
    throw new CapabilityVerificationError(
      'capability_invalid',
      `the \`${CAPABILITY_HEADER}\` header is repeated`,
    );
  }
  const value = (Array.isArray(raw) ? (raw[0] ?? '') : raw).trim();
  return value.length === 0 ? undefined : value;
}

function metaValue(meta: Record<string, unknown> | null | undefined): string | undefined {
  if (!meta || typeof meta !== 'object') return undefined;
  const value = meta[CAPABILITY_META_KEY];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new CapabilityVerificationError(
      'capability_invalid',
      `\`_meta["${CAPABILITY_META_KEY}"]\` is not a string`,
    );
  }
  return value.length === 0 ? undefined : value;
}
