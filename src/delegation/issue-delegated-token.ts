import type { AuditRecorder } from '../audit/types.js';
import { GatehouseError } from '../errors/index.js';
import { issueAccessToken } from '../identity/access-tokens.js';
import type { SigningKeyring } from '../identity/signing-keyring.js';
import type { Clock } from '../lib/clock.js';
import type { ChainLink } from '../policy/types.js';
import type { Agent } from '../registry/types.js';
import type { Store } from '../store/index.js';
import { actOfActors, agentDepth, chainOf } from './act-chain.js';
import { attenuateGrant } from './attenuate.js';
import type { TokenUser } from './delegation-claims.js';

/** What the token being exchanged grants, whichever kind it was (an IdP token or a Gatehouse token). */
export interface ParentGrant {
  subject: ChainLink;
  user?: TokenUser | undefined;
  /** Actors so far, earliest first. */
  actors: string[];
  /** The agent holding the parent token; none for an IdP token. */
  holder?: string | undefined;
  tools?: string[] | undefined;
  task?: Record<string, unknown> | undefined;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** The parent's own jti and its ancestors', root first; empty for an IdP token. */
  parents: string[];
}

export interface DelegatedTokenRequest {
  /** The agent the new token is issued to. */
  actor: Agent;
  parent: ParentGrant;
  requested: { tools?: string[] | undefined; task?: Record<string, unknown> | undefined };
  /** Gatehouse's own audience, or an agent id (a token handed to that agent, which alone may exchange it). */
  audience: { kind: 'gatehouse' } | { kind: 'agent'; agentId: string };
  /** Set when Gatehouse itself performs the exchange for an agent-to-agent call. */
  hop?: { sessionId: string; tool: string };
  /** Who asked, for the audit. */
  auditActor: string;
  grantType: string;
}

export interface DelegationDeps {
  store: Store;
  keyring: SigningKeyring;
  audit: AuditRecorder;
  clock: Clock;
  issuer: string;
  /** Gatehouse's own token audience (`tokens.audience`). */
  audience: string;
  accessTokenTtlMs: number;
  maxChainDepth: number;
}

export interface DelegatedToken {
  access_token: string;
  expires_in: number;
  jti: string;
  exp: number;
  scope?: string;
  chain: ChainLink[];
}

/**
 * Issues the child token of a delegation: the parent's grant narrowed by the request (wider is `invalid_scope`),
 * the actor appended to the `act` chain unless it already holds the parent, the depth bounded, and the token
 * recorded in its delegation tree and audited before it leaves.
 */
export async function issueDelegatedToken(
  deps: DelegationDeps,
  request: DelegatedTokenRequest,
): Promise<DelegatedToken> {
  const { actor, parent } = request;
  const nowSeconds = Math.floor(deps.clock.now() / 1000);
  if (parent.exp <= nowSeconds) throw new GatehouseError('invalid_token', 'the subject token has expired');
  const grant = attenuateGrant(parent, request.requested, {
    exp: nowSeconds + Math.max(1, Math.floor(deps.accessTokenTtlMs / 1000)),
  });
  const actors = parent.holder === actor.id ? parent.actors : [...parent.actors, actor.id];
  if (actors.length === 0 && parent.subject.sub !== actor.id) {
    throw new GatehouseError('delegation_forbidden', 'the subject token belongs to another agent');
  }
  const chain = chainOf(parent.subject, actors);
  if (agentDepth(chain) > deps.maxChainDepth) {
    throw new GatehouseError(
      'delegation_too_deep',
      `the delegation chain would hold ${agentDepth(chain)} agents; at most ${deps.maxChainDepth} are allowed`,
      { details: { chain: chain.map((link) => link.sub), maxChainDepth: deps.maxChainDepth } },
    );
  }
  const audience = request.audience.kind === 'agent' ? request.audience.agentId : deps.audience;
  const act = actOfActors(actors);
  const scope = grant.tools?.join(' ');
  const issued = await issueAccessToken({
    keyring: deps.keyring,
    agent: actor,
    issuer: deps.issuer,
    audience,
    ttlMs: deps.accessTokenTtlMs,
    clock: deps.clock,
    ...(scope ? { scope } : {}),
    delegation: {
      sub: parent.subject.sub,
      ...(act ? { act } : {}),
      ...(request.audience.kind === 'agent' ? { may_act: { sub: request.audience.agentId } } : {}),
      ...(grant.task ? { task: grant.task } : {}),
      ...(parent.user ? { user: parent.user } : {}),
      ...(parent.parents.length > 0 ? { parents: parent.parents } : {}),
      ...(request.hop ? { parent_sid: request.hop.sessionId } : {}),
      notAfter: grant.exp,
    },
  });
  const parentJti = parent.parents[parent.parents.length - 1] ?? null;
  await deps.store.delegations.insertToken({
    jti: issued.jti,
    parentJti,
    rootJti: parent.parents[0] ?? issued.jti,
    subject: parent.subject.sub,
    subjectKind: parent.subject.kind,
    holder: actor.id,
    audience,
    chain,
    scope: scope ?? null,
    task: grant.task ?? null,
    parentSession: request.hop?.sessionId ?? null,
    viaTool: request.hop?.tool ?? null,
    issuedAt: deps.clock.now(),
    expiresAt: issued.exp * 1000,
  });
  // Durable before the token leaves: an unaudited token must not exist.
  await deps.audit.record({
    actor: request.auditActor,
    action: 'token.exchanged',
    target: actor.id,
    details: {
      jti: issued.jti,
      parentJti,
      exp: issued.exp,
      grantType: request.grantType,
      subject: parent.subject,
      chain,
      audience,
      ...(scope ? { scope } : {}),
      ...(grant.task ? { task: grant.task } : {}),
      ...(request.hop ? { hop: request.hop } : {}),
    },
  });
  return {
    access_token: issued.access_token,
    expires_in: issued.expires_in,
    jti: issued.jti,
    exp: issued.exp,
    ...(scope ? { scope } : {}),
    chain,
  };
}
