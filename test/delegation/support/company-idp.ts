import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';

export interface IdpAccount {
  email: string;
  groups?: string[];
  /** RFC 8693 `may_act`, put in the ID token when set. */
  mayAct?: { sub: string };
}

export interface CompanyIdp {
  issuer: string;
  clientId: string;
  /** The provider's signing key (private), to forge look-alike tokens in attack tests. */
  signingJwk: JWK & { kid: string };
  /** Signs `login` in through the real authorization code flow and returns the ID token the IdP issued. */
  login(login: string): Promise<string>;
  close(): Promise<void>;
}

const CLIENT_ID = 'gatehouse-agents';
const CLIENT_SECRET = 'a-test-only-client-secret-of-enough-length';
const REDIRECT_URI = 'http://127.0.0.1/callback';

/**
 * The company's OpenID Connect provider for end-to-end tests: the certified `oidc-provider`, started in-process
 * on a free port. Interactions are test-only and login-less: the account is whatever `login_hint` names, and
 * consent is granted at once, so a test gets real, signed ID tokens through the real code flow.
 */
export async function startCompanyIdp(accounts: Record<string, IdpAccount>): Promise<CompanyIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingJwk = { ...(await exportJWK(privateKey)), kid: 'company-key-1', alg: 'RS256', use: 'sig' };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [signingJwk] },
    cookies: { keys: ['test-only-cookie-key'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups', 'may_act'] },
    conformIdTokenClaims: false,
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, id) => {
      const account = accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({
          sub: id,
          email: account.email,
          email_verified: true,
          groups: account.groups ?? [],
          ...(account.mayAct ? { may_act: account.mayAct } : {}),
        }),
      };
    },
  });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (!req.url?.startsWith('/interaction/')) return void callback(req, res);
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        const accountId = String(details.params.login_hint);
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      const grant = new provider.Grant({
        accountId: details.session?.accountId as string,
        clientId: String(details.params.client_id),
      });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
    })().catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });

  return {
    issuer,
    clientId: CLIENT_ID,
    signingJwk,
    async login(login) {
      const cookies = new Map<string, string>();
      let url = new URL(`${issuer}/auth`);
      url.search = new URLSearchParams({
        client_id: CLIENT_ID,
        response_type: 'code',
        scope: 'openid email groups',
        redirect_uri: REDIRECT_URI,
        login_hint: login,
        nonce: 'n',
        state: 's',
      }).toString();
      let code: string | null = null;
      for (let hop = 0; hop < 10 && code === null; hop += 1) {
        const response = await fetch(url, {
          redirect: 'manual',
          headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
        });
        for (const line of response.headers.getSetCookie()) {
          const [pair] = line.split(';');
          const at = pair?.indexOf('=') ?? -1;
          if (pair && at > 0) cookies.set(pair.slice(0, at), pair.slice(at + 1));
        }
        const location = response.headers.get('location');
        await response.arrayBuffer();
        if (!location) throw new Error(`the IdP answered ${response.status} without a redirect`);
        url = new URL(location, url);
        if (url.href.startsWith(REDIRECT_URI)) code = url.searchParams.get('code');
      }
      if (!code) throw new Error('the IdP issued no authorization code');
      const token = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
        }),
      });
      const body = (await token.json()) as { id_token?: string; error?: string };
      if (!body.id_token) throw new Error(`the IdP issued no ID token: ${JSON.stringify(body)}`);
      return body.id_token;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
