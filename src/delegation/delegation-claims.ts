import type { JWTPayload } from 'jose';
import { GatehouseError } from '../errors/index.js';
import type { CallUser, ChainLink } from '../policy/types.js';
import type { ActClaim } from '../verify/index.js';
import { actorsOfAct, chainOf } from './act-chain.js';
import { parseToolScope } from './tool-scope.js';

/** The person a delegated token speaks for, as the token carries them (claim `user`). */
export interface TokenUser {
  /** The IdP's value of the configured `usernameClaim`. */
  name?: string;
  email?: string;
  groups?: string[];
  /** The issuer of the IdP token the chain started from. */
  idp?: string;
}

/** What a Gatehouse access token says about delegation, read from its verified claims. */
export interface Delegation {
  jti: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** The agent the token was issued to (`client_id`): the one that may present it. */
  holder: string;
  /** On whose behalf (`sub`): a user, or the agent at the root of an agent-only chain. */
  subject: ChainLink;
  /** The person, when the subject is one, as policies see them. */
  user?: CallUser;
  /** The `user` claim as the token carries it. */
  userClaim?: TokenUser;
  /** The actors (`act`), earliest first; the last is the holder. Empty when the holder acts for itself. */
  actors: string[];
  /** Subject then actors, as policies see it; empty for an agent acting for itself alone. */
  chain: ChainLink[];
  act?: ActClaim;
  /** Tool patterns the token may call; undefined for no restriction by the token. */
  tools?: string[];
  /** The task scope (claim `task`), which becomes the session's scope. */
  task?: Record<string, unknown>;
  /** The `jti`s of every token this one was exchanged from, root first: revoking any of them revokes this one. */
  parents: string[];
  /** RFC 8693 `may_act`: who alone may exchange this token. */
  mayAct?: { sub: string };
  /** The session in which Gatehouse minted this token for an agent-to-agent call. */
  parentSession?: string;
}

const MAX_PARENTS = 32;

/** Reads the delegation view of verified access-token claims; a malformed claim is `invalid_token`. */
export function readDelegation(payload: JWTPayload): Delegation {
  const sub = payload.sub;
  const jti = payload.jti;
  const exp = payload.exp;
  if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number') {
    throw new GatehouseError('invalid_token', 'the access token lacks `sub`, `jti` or `exp`');
  }
  const clientId = payload.client_id;
  const holder = typeof clientId === 'string' && clientId !== '' ? clientId : sub;
  const actors = payload.act === undefined ? [] : actorsOfAct(payload.act);
  if (actors.length > 0 && actors[actors.length - 1] !== holder) {
    throw new GatehouseError('invalid_token', 'the current actor of the token is not its `client_id`');
  }
  if (actors.length === 0 && holder !== sub) {
    throw new GatehouseError('invalid_token', 'a token issued to another party than its subject needs `act`');
  }
  const user = readUser(payload.user);
  const subject: ChainLink = { sub, kind: user ? 'user' : 'agent' };
  const delegation: Delegation = {
    jti,
    exp,
    holder,
    subject,
    actors,
    chain: chainOf(subject, actors),
    parents: readParents(payload.parents),
  };
  if (payload.act !== undefined) delegation.act = payload.act as ActClaim;
  if (user) {
    delegation.userClaim = user;
    delegation.user = {
      id: sub,
      ...(user.email ? { email: user.email } : {}),
      properties: {
        groups: user.groups ?? [],
        ...(user.name ? { name: user.name } : {}),
        ...(user.idp ? { idp: user.idp } : {}),
      },
    };
  }
  if (payload.scope !== undefined) {
    if (typeof payload.scope !== 'string')
      throw new GatehouseError('invalid_token', '`scope` is not a string');
    try {
      delegation.tools = parseToolScope(payload.scope);
    } catch (cause) {
      throw new GatehouseError('invalid_token', 'the token `scope` is not a tool scope', { cause });
    }
  }
  if (payload.task !== undefined) {
    if (!isPlainObject(payload.task)) throw new GatehouseError('invalid_token', '`task` is not an object');
    delegation.task = payload.task;
  }
  if (payload.may_act !== undefined) delegation.mayAct = readMayAct(payload.may_act);
  if (payload.parent_sid !== undefined) {
    if (typeof payload.parent_sid !== 'string') {
      throw new GatehouseError('invalid_token', '`parent_sid` is not a string');
    }
    delegation.parentSession = payload.parent_sid;
  }
  return delegation;
}

/** RFC 8693 section 4.4: an object naming the one party (`sub`) that may act for the subject. */
export function readMayAct(value: unknown): { sub: string } {
  if (!isPlainObject(value) || typeof value.sub !== 'string' || value.sub === '') {
    throw new GatehouseError('invalid_token', 'the token `may_act` claim needs a `sub`');
  }
  return { sub: value.sub };
}

function readUser(value: unknown): TokenUser | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value))
    throw new GatehouseError('invalid_token', 'the token `user` claim is not an object');
  const user: TokenUser = {};
  for (const key of ['name', 'email', 'idp'] as const) {
    const field = value[key];
    if (field === undefined) continue;
    if (typeof field !== 'string')
      throw new GatehouseError('invalid_token', `\`user.${key}\` is not a string`);
    user[key] = field;
  }
  if (value.groups !== undefined) {
    if (!Array.isArray(value.groups) || !value.groups.every((group) => typeof group === 'string')) {
      throw new GatehouseError('invalid_token', '`user.groups` is not a list of strings');
    }
    user.groups = value.groups as string[];
  }
  return user;
}

function readParents(value: unknown): string[] {
  if (value === undefined) return [];
  if (
    !Array.isArray(value) ||
    value.length > MAX_PARENTS ||
    !value.every((jti) => typeof jti === 'string' && jti.length > 0 && jti.length <= 256)
  ) {
    throw new GatehouseError('invalid_token', 'the token `parents` claim is not a list of token ids');
  }
  return value as string[];
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
