/**
 * The JOSE `typ` header of a Gatehouse capability, so it can never be confused with an access token (`at+jwt`)
 * or any other JWT Gatehouse signs.
 */
export const CAPABILITY_TYP = 'gatehouse-cap+jwt';

/** The HTTP request header in which HTTP upstreams receive the capability. */
export const CAPABILITY_HEADER = 'gatehouse-capability';

/** The key under MCP `params._meta` where the capability travels, for any upstream transport. */
export const CAPABILITY_META_KEY = 'dev.gatehouse/capability';

/** The longest lifetime (`exp - iat`) a capability may have, in seconds. */
export const MAX_CAPABILITY_LIFETIME_SECONDS = 60;

/** Longer than any capability Gatehouse mints; anything longer is refused before parsing. */
export const MAX_CAPABILITY_LENGTH = 8192;
