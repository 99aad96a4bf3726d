import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import type { AuditEntry } from '../../../src/audit/types.js';
import { api, createTestGatehouse, type TestGatehouse } from '../../support/gatehouse.js';
import { type CompanyIdp, type IdpAccount, startCompanyIdp } from './company-idp.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
export const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
export const JWT_TOKEN = 'urn:ietf:params:oauth:token-type:jwt';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const TOKEN_ENDPOINT = 'http://gatehouse.test/oauth/token';

export interface TestAgent {
  id: string;
  name: string;
  privateJwk: Record<string, unknown>;
}

export interface DelegationFixture {
  fx: TestGatehouse;
  idp: CompanyIdp;
  agents: Record<'planner' | 'researcher' | 'writer' | 'outsider', TestAgent>;
  /** A fresh private_key_jwt client assertion for the agent. */
  assertion(agent: TestAgent, audience?: string): Promise<string>;
  /** POST /oauth/token with the form; returns status and JSON body. */
  token(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
  /** The agent's own token (client_credentials). */
  ownToken(agent: TestAgent): Promise<string>;
  /** Token exchange with the agent authenticated by its client assertion. */
  exchange(
    agent: TestAgent,
    subjectToken: string,
    extra?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** GET /agent/v1/me with the token. */
  me(token: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Audit entries recorded after `fromSeq`. */
  auditSince(fromSeq: number): Promise<AuditEntry[]>;
  auditHead(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A Gatehouse trusting an in-process company IdP (oidc-provider), with four approved agents of one team and the
 * users `alice` (support) and `bob` registered by email.
 */
export async function createDelegationFixture(
  options: { accounts?: Record<string, IdpAccount>; maxChainDepth?: number } = {},
): Promise<DelegationFixture> {
  const idp = await startCompanyIdp(
    options.accounts ?? {
      alice: { email: 'alice@acme.example', groups: ['support'] },
      bob: { email: 'bob@acme.example', groups: ['finance'] },
      carol: { email: 'carol@acme.example', groups: [] },
    },
  );
  const fx = await createTestGatehouse({
    config: {
      identity: {
        issuers: [{ issuer: idp.issuer, audience: idp.clientId }],
        ...(options.maxChainDepth ? { maxChainDepth: options.maxChainDepth } : {}),
      },
    },
  });
  await api(fx, 'POST', '/admin/v1/teams', { name: 'research' });
  await api(fx, 'POST', '/admin/v1/users', { email: 'alice@acme.example', teams: ['research'] });
  await api(fx, 'POST', '/admin/v1/users', { email: 'bob@acme.example', teams: ['research'] });
  const register = async (name: string): Promise<TestAgent> => {
    const created = await api(fx, 'POST', '/admin/v1/agents', {
      name,
      team: 'research',
      sponsor: 'alice@acme.example',
    });
    if (created.status !== 201) throw new Error(`could not register ${name}: ${created.text}`);
    return { id: created.body.agent.id, name, privateJwk: created.body.credentials.privateJwk };
  };
  const agents = {
    planner: await register('planner'),
    researcher: await register('researcher'),
    writer: await register('writer'),
    outsider: await register('outsider'),
  };

  const assertion = async (agent: TestAgent, audience = TOKEN_ENDPOINT) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(agent.id)
      .setSubject(agent.id)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(randomUUID())
      .sign(await importJWK(agent.privateJwk, 'EdDSA'));

  const token = async (form: Record<string, string>) => {
    const response = await fx.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString(),
    });
    return { status: response.statusCode, body: response.json() as Record<string, unknown> };
  };

  return {
    fx,
    idp,
    agents,
    assertion,
    token,
    async ownToken(agent) {
      const response = await token({
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: await assertion(agent),
      });
      if (response.status !== 200)
        throw new Error(`no token for ${agent.name}: ${JSON.stringify(response.body)}`);
      return response.body.access_token as string;
    },
    async exchange(agent, subjectToken, extra = {}) {
      return token({
        grant_type: TOKEN_EXCHANGE,
        subject_token: subjectToken,
        subject_token_type: ACCESS_TOKEN,
        client_assertion_type: JWT_BEARER,
        client_assertion: await assertion(agent),
        ...extra,
      });
    },
    async me(bearer) {
      const response = await fx.app.inject({
        method: 'GET',
        url: '/agent/v1/me',
        headers: { authorization: `Bearer ${bearer}` },
      });
      return { status: response.statusCode, body: response.json() as Record<string, unknown> };
    },
    async auditHead() {
      await fx.gatehouse.audit.flush();
      return fx.gatehouse.store.audit.count();
    },
    async auditSince(fromSeq) {
      await fx.gatehouse.audit.flush();
      return fx.gatehouse.store.audit.list(fromSeq, 10_000);
    },
    async close() {
      await fx.dispose();
      await idp.close();
    },
  };
}
