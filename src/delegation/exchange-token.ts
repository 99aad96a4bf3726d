import { decodeJwt } from 'jose';
import type { IdentityConfig } from '../config/config-schema.js';
import { GatehouseError } from '../errors/index.js';
import { ACCESS_TOKEN_TYP, verifyAccessToken } from '../identity/access-tokens.js';
import { verifyClientAssertion } from '../identity/client-assertion.js';
import type { IdpIdentity, IdpVerifier } from '../identity/oidc/index.js';
import { screenJwtHeader } from '../identity/oidc/index.js';
import type { Agent } from '../registry/types.js';
import { assertChainHolds } from './check-chain.js';
import { isPlainObject, readDelegation, readMayAct } from './delegation-claims.js';
import {
  type DelegatedToken,
  type DelegationDeps,
  issueDelegatedToken,
  type ParentGrant,
} from './issue-delegated-token.js';
import { withFailureReason } from './token-failure.js';
import { parseToolScope } from './tool-scope.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const TOKEN_TYPES = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

const SUBJECT_TOKEN_TYPES: readonly string[] = Object.values(TOKEN_TYPES);
const MAX_TOKEN_LENGTH = 8192;
const MAX_TASK_LENGTH = 4096;

/** The RFC 8693 section 2.1 parameters, read from the form; the caller has checked `grant_type`. */
export interface TokenExchangeParams {
  subjectToken: string;
  subjectTokenType: string;
  actorToken?: string | undefined;
  actorTokenType?: string | undefined;
  /** Client authentication of the token request itself (private_key_jwt), another way to name the actor. */
  clientAssertion?: string | undefined;
  clientId?: string | undefined;
  audience?: string | undefined;
  resource?: string | undefined;
  scope?: string | undefined;
  /** A JSON object: the task scope, e.g. `{"customer":"A"}`. */
  task?: string | undefined;
  requestedTokenType?: string | undefined;
}

export interface TokenExchangeDeps extends DelegationDeps {
  identity: IdentityConfig;
  idp: IdpVerifier;
  /** Values a client assertion's `aud` may hold. */
  assertionAudiences: string[];
  clientAssertionMaxAgeMs: number;
  clockSkewMs: number;
}

/** The RFC 8693 section 2.2.1 response. */
export interface TokenExchangeResponse {
  access_token: string;
  issued_token_type: typeof TOKEN_TYPES.accessToken;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
}

/**
 * Token exchange (RFC 8693): the calling agent (the actor) trades a subject token — a user's token from a
 * configured OpenID Connect issuer, or a Gatehouse token — for a Gatehouse token that acts for the same subject
 * with the actor appended to the `act` chain, and no more rights than the subject token had.
 */
export async function exchangeToken(
  deps: TokenExchangeDeps,
  params: TokenExchangeParams,
): Promise<{ response: TokenExchangeResponse; token: DelegatedToken; actor: Agent }> {
  if (!SUBJECT_TOKEN_TYPES.includes(params.subjectTokenType)) {
    throw new GatehouseError(
      'invalid_request',
      `\`subject_token_type\` \`${params.subjectTokenType.slice(0, 100)}\` is not supported`,
    );
  }
  if (params.requestedTokenType !== undefined && params.requestedTokenType !== TOKEN_TYPES.accessToken) {
    throw new GatehouseError('invalid_request', '`requested_token_type` can only be an access token');
  }
  if (params.subjectToken.length > MAX_TOKEN_LENGTH) {
    throw new GatehouseError('invalid_token', `the \`subject_token\` exceeds ${MAX_TOKEN_LENGTH} characters`);
  }
  const requested = {
    tools: params.scope === undefined ? undefined : parseToolScope(params.scope),
    task: params.task === undefined ? undefined : parseTask(params.task),
  };
  const actor = await authenticateActor(deps, params);
  const audience = await resolveAudience(deps, params.audience ?? params.resource);
  const parent = await verifySubjectToken(deps, params.subjectToken, actor);
  const token = await issueDelegatedToken(deps, {
    actor,
    parent,
    requested,
    audience,
    auditActor: `agent:${actor.id}`,
    grantType: TOKEN_EXCHANGE_GRANT,
  });
  return {
    actor,
    token,
    response: {
      access_token: token.access_token,
      issued_token_type: TOKEN_TYPES.accessToken,
      token_type: 'Bearer',
      expires_in: token.expires_in,
      ...(token.scope ? { scope: token.scope } : {}),
    },
  };
}

/** The actor: by `actor_token` (its client assertion or its own Gatehouse token) and/or client authentication. */
async function authenticateActor(deps: TokenExchangeDeps, params: TokenExchangeParams): Promise<Agent> {
  const assertion = (token: string, clientId?: string) =>
    verifyClientAssertion({
      store: deps.store,
      clock: deps.clock,
      assertion: token,
      expectedAudiences: deps.assertionAudiences,
      maxAgeMs: deps.clientAssertionMaxAgeMs,
      clockSkewMs: deps.clockSkewMs,
      clientId,
    });
  const byClient = params.clientAssertion
    ? await assertion(params.clientAssertion, params.clientId)
    : undefined;
  let byActorToken: Agent | undefined;
  if (params.actorToken !== undefined) {
    if (params.actorTokenType === TOKEN_TYPES.jwt) {
      byActorToken = await assertion(params.actorToken);
    } else if (params.actorTokenType === TOKEN_TYPES.accessToken) {
      const verified = await verifyAccessToken({
        keyring: deps.keyring,
        store: deps.store,
        token: params.actorToken,
        issuer: deps.issuer,
        audience: deps.audience,
        clock: deps.clock,
        clockSkewMs: deps.clockSkewMs,
      });
      // An actor speaks for itself: a delegated token names someone else as its subject.
      if (verified.delegation.chain.length > 0) {
        throw new GatehouseError('invalid_request', 'the `actor_token` must be the agent’s own token');
      }
      byActorToken = verified.agent;
    } else {
      throw new GatehouseError(
        'invalid_request',
        '`actor_token_type` must be a JWT client assertion or a Gatehouse access token',
      );
    }
  }
  if (byClient && byActorToken && byClient.id !== byActorToken.id) {
    throw new GatehouseError(
      'invalid_request',
      'the `actor_token` and the client authentication name different agents',
    );
  }
  const actor = byClient ?? byActorToken;
  if (!actor) {
    throw new GatehouseError('invalid_request', 'an actor is required: `actor_token` or a client assertion');
  }
  return actor;
}

/** `audience`/`resource`: Gatehouse itself (the default), or a registered, active agent the token is for. */
async function resolveAudience(
  deps: TokenExchangeDeps,
  value: string | undefined,
): Promise<{ kind: 'gatehouse' } | { kind: 'agent'; agentId: string }> {
  if (value === undefined || [deps.audience, deps.issuer, `${deps.issuer}/mcp`].includes(value)) {
    return { kind: 'gatehouse' };
  }
  const agent =
    value.length <= 200
      ? ((await deps.store.agents.findById(value)) ?? (await deps.store.agents.findByName(value)))
      : undefined;
  if (agent?.state !== 'active') {
    throw new GatehouseError(
      'invalid_target',
      `\`${value.slice(0, 100)}\` is not an audience Gatehouse issues for`,
    );
  }
  return { kind: 'agent', agentId: agent.id };
}

/** Verifies the subject token and reads what it grants; only Gatehouse and configured IdPs are trusted. */
async function verifySubjectToken(
  deps: TokenExchangeDeps,
  token: string,
  actor: Agent,
): Promise<ParentGrant> {
  let issuer: unknown;
  try {
    issuer = decodeJwt(token).iss;
  } catch (cause) {
    screenJwtHeader(token);
    throw new GatehouseError('invalid_token', 'the `subject_token` is not a JWT', {
      cause,
      details: { reason: 'malformed' },
    });
  }
  if (issuer === deps.issuer) return gatehouseSubject(deps, token, actor);
  if (typeof issuer === 'string' && deps.idp.trusts(issuer)) {
    return idpSubject(deps, await deps.idp.verify(token), actor);
  }
  screenJwtHeader(token);
  throw new GatehouseError('invalid_token', 'the `subject_token` issuer is not trusted', {
    details: { reason: 'issuer' },
  });
}

async function gatehouseSubject(deps: TokenExchangeDeps, token: string, actor: Agent): Promise<ParentGrant> {
  screenJwtHeader(token, ['EdDSA']);
  let payload: Awaited<ReturnType<typeof deps.keyring.verifyJwt>>['payload'];
  try {
    ({ payload } = await deps.keyring.verifyJwt(token, {
      issuer: deps.issuer,
      // Its own token, or one handed to it: a token addressed to another agent is refused right here.
      audience: [deps.audience, actor.id],
      typ: ACCESS_TOKEN_TYP,
      requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      clockSkewMs: deps.clockSkewMs,
      now: deps.clock.now(),
    }));
  } catch (error) {
    throw withFailureReason(error);
  }
  const delegation = readDelegation(payload);
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audiences.includes(actor.id) && delegation.holder !== actor.id) {
    throw new GatehouseError(
      'delegation_forbidden',
      'the `subject_token` belongs to another agent; exchange it for one addressed to this agent first',
    );
  }
  checkMayAct(delegation.mayAct, actor);
  await assertChainHolds(deps.store, delegation);
  return {
    subject: delegation.subject,
    ...(delegation.userClaim ? { user: delegation.userClaim } : {}),
    actors: delegation.actors,
    holder: delegation.holder,
    tools: delegation.tools,
    task: delegation.task,
    exp: delegation.exp,
    parents: [...delegation.parents, delegation.jti],
  };
}

async function idpSubject(
  deps: TokenExchangeDeps,
  identity: IdpIdentity,
  actor: Agent,
): Promise<ParentGrant> {
  if (identity.mayAct !== undefined) checkMayAct(readMayAct(identity.mayAct), actor);
  if (/^(usr|agt)_/.test(identity.username)) {
    throw new GatehouseError('invalid_token', 'the IdP username looks like a Gatehouse id', {
      details: { reason: 'username' },
    });
  }
  const email = identity.email ?? (identity.username.includes('@') ? identity.username : undefined);
  const registered = email ? await deps.store.users.findByEmail(email.toLowerCase()) : undefined;
  if (registered && !registered.active) {
    throw new GatehouseError('invalid_token', `the user \`${registered.id}\` is deactivated`, {
      details: { reason: 'user_inactive' },
    });
  }
  return {
    subject: { sub: registered?.id ?? identity.username, kind: 'user' },
    user: {
      name: identity.username,
      ...(email ? { email } : {}),
      groups: identity.groups,
      idp: identity.issuer,
    },
    actors: [],
    exp: identity.exp,
    parents: [],
  };
}

function checkMayAct(mayAct: { sub: string } | undefined, actor: Agent): void {
  if (mayAct && mayAct.sub !== actor.id && mayAct.sub !== actor.name) {
    throw new GatehouseError(
      'delegation_forbidden',
      `the subject token may only be exchanged by \`${mayAct.sub}\``,
    );
  }
}

function parseTask(text: string): Record<string, unknown> {
  if (text.length > MAX_TASK_LENGTH) {
    throw new GatehouseError('invalid_request', `\`task\` exceeds ${MAX_TASK_LENGTH} characters`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatehouseError('invalid_request', '`task` is not JSON');
  }
  if (!isPlainObject(value)) throw new GatehouseError('invalid_request', '`task` must be a JSON object');
  return value;
}
