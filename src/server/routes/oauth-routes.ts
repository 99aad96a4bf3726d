import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditRecorder } from '../../audit/types.js';
import type { IdentityConfig } from '../../config/config-schema.js';
import {
  exchangeToken,
  revokeToken,
  TOKEN_EXCHANGE_GRANT,
  type TokenExchangeParams,
} from '../../delegation/index.js';
import { GatehouseError } from '../../errors/index.js';
import { issueAccessToken, verifyAccessToken } from '../../identity/access-tokens.js';
import { readClaimedAgentId, verifyClientAssertion } from '../../identity/client-assertion.js';
import { sharedIdpVerifier } from '../../identity/oidc/index.js';
import type { SigningKeyring } from '../../identity/signing-keyring.js';
import type { Clock } from '../../lib/clock.js';
import type { Store } from '../../store/index.js';
import { classifyRequestError, problemFor } from '../problem.js';

export interface OAuthRouteDeps {
  store: Store;
  keyring: SigningKeyring;
  audit: AuditRecorder;
  clock: Clock;
  /** Our issuer identifier (the public base URL, no trailing slash). */
  issuer: string;
  /** The token endpoint's public URL: the `aud` agents put in their client assertions. */
  tokenEndpoint: string;
  /** The `aud` of the access tokens we issue. */
  audience: string;
  accessTokenTtlMs: number;
  clientAssertionMaxAgeMs: number;
  clockSkewMs: number;
  /** Where the JWKS is published; `<issuer>/.well-known/jwks.json` when absent. */
  jwksUri?: string;
  /** Trusted OpenID Connect issuers and delegation limits; no IdP and the default depth when absent. */
  identity?: IdentityConfig;
}

const NO_IDENTITY: IdentityConfig = {
  issuers: [],
  maxChainDepth: 4,
  jwksCacheTtl: 600_000,
  agentUpstreams: [],
};

/** RFC 6749 / 8693 / 8707 `error` names the shared problem mapper does not know. */
const TOKEN_EXCHANGE_ERRORS: Record<string, string> = {
  invalid_scope: 'invalid_scope',
  invalid_target: 'invalid_target',
  delegation_forbidden: 'invalid_grant',
  invalid_token: 'invalid_request',
};

const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const CLIENT_CREDENTIALS = 'client_credentials';
const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Far above any real token request; assertions themselves are capped lower by verifyClientAssertion. */
const TOKEN_BODY_LIMIT_BYTES = 32 * 1024;

/**
 * The OAuth face for agents: the token endpoint (client_credentials + private_key_jwt, and RFC 8693 token
 * exchange for delegation), RFC 7009 revocation, the JWKS, RFC 8414 metadata, and `/agent/v1/me` to check a
 * token. Errors are thrown as GatehouseErrors for the app's handler.
 */
export function registerOAuthRoutes(app: FastifyInstance, deps: OAuthRouteDeps): void {
  const jwksUri = deps.jwksUri ?? `${deps.issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;
  const expectedAudiences = [...new Set([deps.tokenEndpoint, deps.issuer])];
  const identity = deps.identity ?? NO_IDENTITY;
  const exchangeDeps = () => ({
    store: deps.store,
    keyring: deps.keyring,
    audit: deps.audit,
    clock: deps.clock,
    issuer: deps.issuer,
    audience: deps.audience,
    accessTokenTtlMs: deps.accessTokenTtlMs,
    maxChainDepth: identity.maxChainDepth,
    identity,
    idp: sharedIdpVerifier(identity, deps.clock, deps.clockSkewMs),
    assertionAudiences: expectedAudiences,
    clientAssertionMaxAgeMs: deps.clientAssertionMaxAgeMs,
    clockSkewMs: deps.clockSkewMs,
  });

  app.register(async (scope) => {
    if (!scope.hasContentTypeParser(FORM_CONTENT_TYPE)) await scope.register(formbody);

    scope.post(
      '/oauth/token',
      {
        bodyLimit: TOKEN_BODY_LIMIT_BYTES,
        schema: {
          tags: ['oauth'],
          summary: 'Issue an access token to an agent (client_credentials, or token exchange per RFC 8693)',
        },
        // Every failure, body parsing included, leaves a trace in the audit log; the token is never recorded.
        onError: async (request, _reply, error) => {
          const problem = classifyRequestError(error);
          const claimedAgentId = claimedAgentIdOf(request);
          const exchange = isTokenExchange(request);
          const reason = problem.details?.reason;
          try {
            await deps.audit.record({
              actor: 'anonymous',
              action: exchange ? 'token_exchange.rejected' : 'client_assertion.rejected',
              target: claimedAgentId ?? null,
              details: {
                code: problem.code,
                claimedAgentId: claimedAgentId ?? null,
                reason: typeof reason === 'string' ? reason : internalReason(problem),
                ...(exchange ? { detail: internalReason(problem) } : {}),
                ip: request.ip,
              },
            });
          } catch (auditError) {
            request.log.error({ err: auditError }, 'could not audit a rejected token request');
          }
        },
        // Token exchange errors carry their RFC 8693 / 8707 `error` names (`invalid_scope`, `invalid_target`).
        errorHandler: (error, request, reply) => {
          const problem = classifyRequestError(error);
          if (problem.status >= 500) request.log.error({ err: error }, 'token request failed');
          const body = problemFor(problem, request.url.split('?')[0], true);
          const oauthError = isTokenExchange(request) ? TOKEN_EXCHANGE_ERRORS[problem.code] : undefined;
          if (oauthError) body.error = oauthError;
          if (problem.code === 'invalid_token' || problem.code === 'unauthorized') {
            reply.header(
              'www-authenticate',
              `Bearer error="invalid_token", error_description="${problem.code}"`,
            );
          }
          return reply.status(problem.status).type('application/problem+json').send(body);
        },
      },
      async (request, reply) => {
        const form = readTokenForm(request);
        if (form.grantType === TOKEN_EXCHANGE_GRANT) {
          const { response } = await exchangeToken(exchangeDeps(), form.params);
          return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(response);
        }
        const agent = await verifyClientAssertion({
          store: deps.store,
          clock: deps.clock,
          assertion: form.clientAssertion,
          expectedAudiences,
          maxAgeMs: deps.clientAssertionMaxAgeMs,
          clockSkewMs: deps.clockSkewMs,
          clientId: form.clientId,
        });
        // Requested scopes are not granted yet (no scope model); RFC 6749 lets the server ignore them.
        const issued = await issueAccessToken({
          keyring: deps.keyring,
          agent,
          issuer: deps.issuer,
          audience: deps.audience,
          ttlMs: deps.accessTokenTtlMs,
          clock: deps.clock,
        });
        // Durable before the token leaves: an unaudited token must not exist.
        await deps.audit.record({
          actor: `agent:${agent.id}`,
          action: 'token.issued',
          target: agent.id,
          details: { jti: issued.jti, exp: issued.exp, grantType: CLIENT_CREDENTIALS },
        });
        return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send({
          access_token: issued.access_token,
          token_type: issued.token_type,
          expires_in: issued.expires_in,
        });
      },
    );

    scope.post(
      '/oauth/revoke',
      {
        bodyLimit: TOKEN_BODY_LIMIT_BYTES,
        schema: { tags: ['oauth'], summary: 'Revoke a token and every token exchanged from it (RFC 7009)' },
      },
      async (request, reply) => {
        const form = readRevocationForm(request);
        const agent = await verifyClientAssertion({
          store: deps.store,
          clock: deps.clock,
          assertion: form.clientAssertion,
          expectedAudiences: [...expectedAudiences, `${deps.issuer}/oauth/revoke`],
          maxAgeMs: deps.clientAssertionMaxAgeMs,
          clockSkewMs: deps.clockSkewMs,
          clientId: form.clientId,
        });
        await revokeToken(deps, { token: form.token, byAgent: agent.id });
        return reply.header('cache-control', 'no-store').status(200).send({});
      },
    );

    scope.get(
      '/.well-known/jwks.json',
      { schema: { tags: ['oauth'], summary: 'Public signing keys' } },
      async (_request, reply) =>
        reply.header('cache-control', 'public, max-age=300').send(await deps.keyring.publicJwks()),
    );

    scope.get(
      '/.well-known/oauth-authorization-server',
      { schema: { tags: ['oauth'], summary: 'Authorization server metadata (RFC 8414)' } },
      async (_request, reply) =>
        reply.header('cache-control', 'public, max-age=300').send({
          issuer: deps.issuer,
          token_endpoint: deps.tokenEndpoint,
          jwks_uri: jwksUri,
          grant_types_supported: [CLIENT_CREDENTIALS, TOKEN_EXCHANGE_GRANT],
          revocation_endpoint: `${deps.issuer}/oauth/revoke`,
          // No authorization endpoint: agents never go through a browser redirect.
          response_types_supported: [],
          token_endpoint_auth_methods_supported: ['private_key_jwt'],
          token_endpoint_auth_signing_alg_values_supported: ['EdDSA', 'ES256'],
        }),
    );

    scope.get(
      '/agent/v1/me',
      { schema: { tags: ['oauth'], summary: 'The agent an access token speaks for' } },
      async (request, reply) => {
        const { agent } = await verifyAccessToken({
          keyring: deps.keyring,
          store: deps.store,
          token: bearerToken(request),
          issuer: deps.issuer,
          audience: deps.audience,
          clock: deps.clock,
          clockSkewMs: deps.clockSkewMs,
        });
        return reply.header('cache-control', 'no-store').send({
          id: agent.id,
          name: agent.name,
          teamId: agent.teamId,
          state: agent.state,
          reviewStatus: agent.reviewStatus,
        });
      },
    );
  });
}

type TokenForm =
  | { grantType: typeof CLIENT_CREDENTIALS; clientAssertion: string; clientId: string | undefined }
  | { grantType: typeof TOKEN_EXCHANGE_GRANT; params: TokenExchangeParams };

/** Checks the token request shape (RFC 6749 section 4.4, RFC 7521 section 4.2) before any cryptography. */
function readTokenForm(request: FastifyRequest): TokenForm {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (contentType !== FORM_CONTENT_TYPE) {
    throw new GatehouseError('unsupported_media_type', `the token request must be \`${FORM_CONTENT_TYPE}\``);
  }
  const body = (request.body ?? {}) as Record<string, unknown>;
  const field = (name: string): string | undefined => {
    const value = body[name];
    if (value === undefined) return undefined;
    // RFC 6749 section 3.2: a parameter must not appear more than once.
    if (typeof value !== 'string')
      throw new GatehouseError('invalid_request', `\`${name}\` must appear once`);
    return value;
  };
  const required = (name: string): string => {
    const value = field(name);
    if (!value) throw new GatehouseError('invalid_request', `\`${name}\` is required`);
    return value;
  };
  const grantType = required('grant_type');
  if (grantType === TOKEN_EXCHANGE_GRANT) {
    const assertionType = field('client_assertion_type');
    if (assertionType !== undefined && assertionType !== JWT_BEARER_ASSERTION) {
      throw new GatehouseError(
        'invalid_request',
        `\`client_assertion_type\` must be \`${JWT_BEARER_ASSERTION}\``,
      );
    }
    return {
      grantType,
      params: {
        subjectToken: required('subject_token'),
        subjectTokenType: required('subject_token_type'),
        actorToken: field('actor_token'),
        actorTokenType: field('actor_token_type'),
        clientAssertion: assertionType ? required('client_assertion') : undefined,
        clientId: field('client_id'),
        audience: field('audience'),
        resource: field('resource'),
        scope: field('scope'),
        task: field('task'),
        requestedTokenType: field('requested_token_type'),
      },
    };
  }
  if (grantType !== CLIENT_CREDENTIALS) {
    throw new GatehouseError(
      'unsupported_grant_type',
      `grant type \`${grantType.slice(0, 100)}\` is not supported`,
    );
  }
  if (required('client_assertion_type') !== JWT_BEARER_ASSERTION) {
    throw new GatehouseError(
      'invalid_request',
      `\`client_assertion_type\` must be \`${JWT_BEARER_ASSERTION}\``,
    );
  }
  const clientAssertion = required('client_assertion');
  return { grantType, clientAssertion, clientId: field('client_id') };
}

/** RFC 7009 section 2.1: `token`, and the client authenticated by its private_key_jwt assertion. */
function readRevocationForm(request: FastifyRequest): {
  token: string;
  clientAssertion: string;
  clientId?: string;
} {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (contentType !== FORM_CONTENT_TYPE) {
    throw new GatehouseError(
      'unsupported_media_type',
      `the revocation request must be \`${FORM_CONTENT_TYPE}\``,
    );
  }
  const body = (request.body ?? {}) as Record<string, unknown>;
  const value = (name: string): string | undefined => {
    const field = body[name];
    if (field !== undefined && typeof field !== 'string') {
      throw new GatehouseError('invalid_request', `\`${name}\` must appear once`);
    }
    return field;
  };
  const token = value('token');
  const clientAssertion = value('client_assertion');
  if (!token) throw new GatehouseError('invalid_request', '`token` is required');
  if (!clientAssertion || value('client_assertion_type') !== JWT_BEARER_ASSERTION) {
    throw new GatehouseError(
      'invalid_request',
      'the revoking agent authenticates with a JWT client assertion',
    );
  }
  const clientId = value('client_id');
  return { token, clientAssertion, ...(clientId ? { clientId } : {}) };
}

function isTokenExchange(request: FastifyRequest): boolean {
  return (request.body as Record<string, unknown> | undefined)?.grant_type === TOKEN_EXCHANGE_GRANT;
}

function bearerToken(request: FastifyRequest): string {
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(request.headers.authorization ?? '');
  if (!match?.[1]) throw new GatehouseError('invalid_token', 'a bearer access token is required');
  return match[1];
}

function claimedAgentIdOf(request: FastifyRequest): string | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  const assertion =
    body?.client_assertion ?? (body?.actor_token_type === JWT_ACTOR ? body.actor_token : undefined);
  return typeof assertion === 'string' ? readClaimedAgentId(assertion) : undefined;
}

const JWT_ACTOR = 'urn:ietf:params:oauth:token-type:jwt';

/** What the audit log should say beyond the client-facing message: the hidden cause where there is one. */
function internalReason(error: GatehouseError): string {
  const cause = error.cause;
  const reason =
    cause instanceof Error && cause.message ? `${error.message} (${cause.message})` : error.message;
  return reason.slice(0, 500);
}
