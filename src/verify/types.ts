/**
 * The RFC 8693 section 4.1 actor claim: `sub` names an actor, and a nested `act` the actor before it in the
 * delegation chain.
 */
export interface ActClaim {
  sub: string;
  act?: ActClaim;
  [claim: string]: unknown;
}

/** The claims of a Gatehouse capability: one allowed tool call, usable once. */
export interface CapabilityClaims {
  /** Gatehouse's issuer URL. */
  iss: string;
  /** The agent that makes the call. */
  sub: string;
  /** The upstream the call is for. */
  aud: string | string[];
  /** Seconds since the epoch. */
  iat: number;
  /** Seconds since the epoch; at most 60 s after `iat`. */
  exp: number;
  /** Unique per capability (`cap_...`): the single-use key. */
  jti: string;
  /** The Gatehouse session the call belongs to. */
  sid?: string;
  /** The tool, as the upstream names it. */
  tool: string;
  /** See argsSha256. */
  args_sha256: string;
  /** The delegation chain, when the agent acts for another agent or a user. */
  act?: ActClaim;
  /** The user on whose behalf the session runs, when there is one. */
  on_behalf_of?: string;
  [claim: string]: unknown;
}
