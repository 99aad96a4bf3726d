import { GatehouseError } from '../../errors/index.js';
import { checkRequestTarget } from './egress-target.js';

/**
 * The upstream URL of a credentialed-route request: `rest` (the part after `/egress/<route>`, with its query)
 * appended below the base URL's path. Refuses (`egress_target_invalid`) a path that climbs out of the base
 * path once dot segments (`..`, `%2e%2e`) are resolved, and targets a parser could read two ways.
 * @example routeUrl('https://api.example.com/v1', '/users?page=2').href // https://api.example.com/v1/users?page=2
 */
export function routeUrl(baseUrl: string, rest: string): URL {
  if (rest !== '') checkRequestTarget(rest);
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const question = rest.indexOf('?');
  const path = question === -1 ? rest : rest.slice(0, question);
  const query = question === -1 ? '' : rest.slice(question + 1);
  const url = new URL(base.origin);
  // Setting the pathname, not resolving a reference: `//evil.example` stays a path on the base's host.
  url.pathname = path === '' ? basePath || '/' : `${basePath}${path.startsWith('/') ? '' : '/'}${path}`;
  if (url.origin !== base.origin || !(url.pathname === basePath || url.pathname.startsWith(`${basePath}/`))) {
    throw new GatehouseError('egress_target_invalid', `the path \`${path}\` leaves the route's base path`);
  }
  if (query !== '') url.search = `?${query}`;
  return url;
}

/**
 * `url` with the query parameter `name` set to `value`: any parameter of that name the agent sent is removed
 * first, the rest of the query is kept byte for byte.
 */
export function withQueryParameter(url: URL, name: string, value: string): URL {
  const kept = url.search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '' && formDecode(pair.split('=', 1)[0] ?? '') !== name);
  kept.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  const out = new URL(url.href);
  out.search = `?${kept.join('&')}`;
  return out;
}

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return value;
  }
}
