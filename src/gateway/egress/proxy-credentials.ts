/** What an agent presents to the forward proxy: its access token and, optionally, the session it works in. */
export interface ProxyCredentials {
  token: string;
  /** A Gatehouse session id given as the Basic user name (`ses_...`), so `HTTPS_PROXY` URLs can name one. */
  sessionId: string | undefined;
}

const MAX_HEADER_LENGTH = 12 * 1024;
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i;
const BASIC = /^Basic +([A-Za-z0-9+/]+=*)$/i;
const SESSION_ID = /^ses_[0-9a-z]{1,64}$/;

/**
 * Reads `Proxy-Authorization`: `Bearer <token>`, or `Basic base64(user:<token>)` as curl and undici send proxy
 * URL credentials. A Basic user name that is a session id (`ses_...`) names the session; any other is ignored.
 * Undefined when the header is missing or malformed.
 * @example readProxyCredentials(`Basic ${btoa('ses_1:eyJ...')}`) // { token: 'eyJ...', sessionId: 'ses_1' }
 */
export function readProxyCredentials(header: string | undefined): ProxyCredentials | undefined {
  if (header === undefined || header.length > MAX_HEADER_LENGTH) return undefined;
  const bearer = BEARER.exec(header);
  if (bearer?.[1]) return { token: bearer[1], sessionId: undefined };
  const basic = BASIC.exec(header);
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const user = decodeURIComponentSafe(decoded.slice(0, colon));
  const token = decodeURIComponentSafe(decoded.slice(colon + 1));
  if (token === '' || !/^[A-Za-z0-9._~+/-]+=*$/.test(token)) return undefined;
  return { token, sessionId: SESSION_ID.test(user) ? user : undefined };
}

// Some clients percent-encode the user info of a proxy URL before encoding it in base64; tokens never need it.
function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
