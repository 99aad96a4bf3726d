import { isIP } from 'node:net';
import { GatehouseError } from '../../errors/index.js';

/** Where one egress request or tunnel goes, normalised the way the WHATWG URL parser reads hosts. */
export interface EgressTarget {
  /** `http` for absolute-form requests, `tunnel` for CONNECT (the bytes inside are not seen). */
  scheme: 'http' | 'https' | 'tunnel';
  /** Lower-case host name, or an IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** The path as it is forwarded (dot segments resolved); absent for tunnels. */
  path?: string;
  /** The query string without `?`, when there is one. */
  query?: string;
}

const MAX_TARGET_LENGTH = 8192;
// Only visible ASCII: no spaces, control characters (CR/LF above all) or raw non-ASCII in a request target.
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
// Percent-encoded CR, LF and NUL: harmless on the wire, but decoded by careless upstreams into header splits.
const ENCODED_BREAK = /%0[ad0]/i;
const CONNECT_AUTHORITY = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:/?#@[\]\\]+)):(\d{1,5})$/;

/**
 * Reads an absolute-form proxy request target (`http://host[:port]/path?query`). Refuses, with
 * `egress_target_invalid`, anything a parser could read two ways: control characters or spaces, user info,
 * backslashes in the authority, encoded line breaks, and schemes other than `http:` (use CONNECT for TLS).
 */
export function parseAbsoluteTarget(raw: string): EgressTarget {
  checkRaw(raw);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw invalid('the proxy takes absolute-form targets such as `http://host/path`; use CONNECT for TLS');
  }
  if (scheme !== 'http') {
    throw invalid(`scheme \`${scheme}\` is not proxied in absolute form; use CONNECT for TLS`);
  }
  const authority = raw.slice(scheme.length + 3).split(/[/?#]/, 1)[0] ?? '';
  if (authority === '' || authority.includes('@') || authority.includes('\\')) {
    throw invalid(`the target \`${short(raw)}\` has no plain host (user info and backslashes are refused)`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(`the target \`${short(raw)}\` is not a URL`);
  }
  const host = normaliseHost(url.hostname);
  const port = url.port === '' ? 80 : Number(url.port);
  if (host === undefined || port === 0)
    throw invalid(`the target \`${short(raw)}\` has no valid host or port`);
  const query = url.search.slice(1);
  return { scheme: 'http', host, port, path: url.pathname, ...(query === '' ? {} : { query }) };
}

/** Reads a CONNECT target: `host:port` or `[v6]:port`, port required. */
export function parseConnectTarget(raw: string): EgressTarget {
  checkRaw(raw);
  const match = CONNECT_AUTHORITY.exec(raw);
  const port = Number(match?.[3]);
  const written = match?.[1] ?? match?.[2];
  if (written === undefined || !(port >= 1 && port <= 65535)) {
    throw invalid(`the CONNECT target \`${short(raw)}\` is not \`host:port\``);
  }
  if (match?.[1] !== undefined && isIP(written) !== 6) {
    throw invalid(`the CONNECT target \`${short(raw)}\` is not \`host:port\``);
  }
  let host: string | undefined;
  try {
    host = normaliseHost(new URL(`http://${match?.[1] !== undefined ? `[${written}]` : written}`).hostname);
  } catch {
    host = undefined;
  }
  if (host === undefined) throw invalid(`the CONNECT target \`${short(raw)}\` has no valid host`);
  return { scheme: 'tunnel', host, port };
}

/** `host[:port]` as a Host header or URL authority writes it (brackets around IPv6, default port left out). */
export function authorityOf(target: Pick<EgressTarget, 'host' | 'port'>, defaultPort = 80): string {
  const host = isIP(target.host) === 6 ? `[${target.host}]` : target.host;
  return target.port === defaultPort ? host : `${host}:${target.port}`;
}

/** The path and query of a target as a request line carries them. */
export function pathAndQueryOf(target: EgressTarget): string {
  return `${target.path ?? '/'}${target.query === undefined ? '' : `?${target.query}`}`;
}

/**
 * Refuses (`egress_target_invalid`) a request target a parser could read two ways: too long, spaces, control
 * characters, line breaks, raw non-ASCII, or percent-encoded CR, LF and NUL.
 */
export function checkRequestTarget(raw: string): void {
  checkRaw(raw);
}

function checkRaw(raw: string): void {
  if (raw.length > MAX_TARGET_LENGTH) throw invalid('the request target is too long');
  if (!VISIBLE_ASCII.test(raw)) {
    throw invalid('the request target has spaces, control characters, line breaks or non-ASCII characters');
  }
  if (ENCODED_BREAK.test(raw)) {
    throw invalid('the request target has an encoded line break or NUL (`%0d`, `%0a`, `%00`)');
  }
}

function normaliseHost(hostname: string): string | undefined {
  let host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '' || host.length > 253 || !/^[a-z0-9.:_-]+$/.test(host)) return undefined;
  return host;
}

function short(raw: string): string {
  return raw.length > 80 ? `${raw.slice(0, 77)}...` : raw;
}

function invalid(message: string): GatehouseError {
  return new GatehouseError('egress_target_invalid', message);
}
