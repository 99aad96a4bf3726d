import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { importJWK, importPKCS8, type JWK, SignJWT } from 'jose';
import { GatehouseError } from '../errors/index.js';

/** Renew a little before expiry so a token never expires in flight. */
const RENEW_BEFORE_MS = 30_000;

/** An agent's own private key, as the CLI prints it at registration (JWK) or as PKCS#8 PEM. */
export interface AgentKey {
  key: Awaited<ReturnType<typeof importJWK>>;
  alg: 'EdDSA' | 'ES256';
  kid?: string;
}

export async function readAgentKey(file: string): Promise<AgentKey> {
  const text = (
    await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new GatehouseError(
        'invalid_request',
        `cannot read the agent key \`${file}\`: ${error.code ?? error.message}`,
      );
    })
  ).trim();
  if (text.startsWith('-----BEGIN')) {
    for (const alg of ['EdDSA', 'ES256'] as const) {
      try {
        return { key: await importPKCS8(text, alg), alg };
      } catch {
        // try the next algorithm
      }
    }
    throw new GatehouseError('invalid_request', `\`${file}\` is not an Ed25519 or P-256 PKCS#8 private key`);
  }
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    throw new GatehouseError('invalid_request', `\`${file}\` is neither a private JWK nor a PEM key`);
  }
  if (typeof jwk.d !== 'string')
    throw new GatehouseError('invalid_request', `\`${file}\` holds no private key`);
  const alg = jwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
  return { key: await importJWK(jwk, alg), alg, ...(jwk.kid ? { kid: jwk.kid } : {}) };
}

export interface TokenSource {
  /** A valid access token, renewed before it expires. */
  token(): Promise<string>;
}

/**
 * Gets access tokens for an agent from a Gatehouse server with RFC 7523 client assertions signed by the agent's
 * own key. The token endpoint is read from the server's metadata, so the assertion's audience is exactly it.
 */
export function createTokenSource(options: { server: string; agentId: string; key: AgentKey }): TokenSource {
  const server = options.server.replace(/\/+$/, '');
  let current: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  const fetchToken = async () => {
    const metadataResponse = await fetch(`${server}/.well-known/oauth-authorization-server`);
    if (!metadataResponse.ok) {
      throw new GatehouseError(
        'invalid_request',
        `no OAuth metadata at ${server} (HTTP ${metadataResponse.status})`,
      );
    }
    const { token_endpoint: tokenEndpoint } = (await metadataResponse.json()) as { token_endpoint: string };
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: options.key.alg, ...(options.key.kid ? { kid: options.key.kid } : {}) })
      .setIssuer(options.agentId)
      .setSubject(options.agentId)
      .setAudience(tokenEndpoint)
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(randomUUID())
      .sign(options.key.key);
    const response = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      error_description?: string;
      detail?: string;
    };
    if (!response.ok || !body.access_token) {
      throw new GatehouseError(
        'invalid_client_assertion',
        `the token endpoint refused agent \`${options.agentId}\`: ${body.error_description ?? body.detail ?? response.status}`,
      );
    }
    current = {
      token: body.access_token,
      renewAt: Date.now() + (body.expires_in ?? 60) * 1000 - RENEW_BEFORE_MS,
    };
    return body.access_token;
  };

  return {
    async token() {
      if (current && Date.now() < current.renewAt) return current.token;
      pending ??= fetchToken().finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}
