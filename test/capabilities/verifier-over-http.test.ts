import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintCapability } from '../../src/capabilities/index.js';
import { parseConfig } from '../../src/config/index.js';
import { findFreePort } from '../../src/lib/free-port.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import {
  CAPABILITY_HEADER,
  CapabilityVerificationError,
  type CapabilityVerifierOptions,
  capabilityFromRequest,
  createCapabilityVerifier,
} from '../../src/verify/index.js';

const ARGS = { project: 'ops', title: 'printer on fire' };

describe('gatehouse/verify against a running Gatehouse', () => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-verify-'));
    const port = await findFreePort();
    server = await startServer(
      parseConfig({
        dataDir: join(dir, 'data'),
        masterKey: randomBytes(32).toString('base64'),
        server: { port, logLevel: 'silent' },
      }),
    );
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const mint = (tool = 'create_ticket', args: unknown = ARGS) =>
    mintCapability(
      {
        keyring: server.gatehouse.keyring,
        issuer: server.gatehouse.issuer,
        clock: server.gatehouse.clock,
        ttlMs: server.gatehouse.config.mcp.capabilityTtl,
      },
      { agentId: 'agt_1', sessionId: 'ses_1', audience: 'tickets', tool, args },
    );
  // Only what a tool server knows: the issuer URL and its own audience; the JWKS URL derives from the issuer.
  const verifierFor = (options: Partial<CapabilityVerifierOptions> = {}) =>
    createCapabilityVerifier({ issuer: server.gatehouse.issuer, audience: 'tickets', ...options });
  const codeOf = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => (error instanceof CapabilityVerificationError ? error.code : String(error)),
    );

  it('verifies a capability from the header against /.well-known/jwks.json, then refuses its replay', async () => {
    const verifier = verifierFor();
    const { token, jti } = await mint();
    const headers = { host: 'tickets.internal', [CAPABILITY_HEADER]: token };
    const claims = await verifier.verify(capabilityFromRequest({ headers }), {
      tool: 'create_ticket',
      args: { title: 'printer on fire', project: 'ops' },
    });
    expect(claims).toMatchObject({ iss: server.url, sub: 'agt_1', aud: 'tickets', jti, sid: 'ses_1' });
    expect(await codeOf(verifier.verify(token, { tool: 'create_ticket', args: ARGS }))).toBe(
      'capability_replayed',
    );
  });

  it('refuses a capability minted for another call or another upstream', async () => {
    const verifier = verifierFor();
    const { token } = await mint();
    expect(await codeOf(verifier.verify(token, { tool: 'close_ticket', args: ARGS }))).toBe(
      'capability_mismatch',
    );
    expect(
      await codeOf(verifier.verify(token, { tool: 'create_ticket', args: { ...ARGS, project: 'hr' } })),
    ).toBe('capability_mismatch');
    expect(
      await codeOf(verifierFor({ audience: 'billing' }).verify(token, { tool: 'create_ticket', args: ARGS })),
    ).toBe('capability_invalid');
    expect(await codeOf(verifier.verify(undefined, { tool: 'create_ticket', args: ARGS }))).toBe(
      'capability_missing',
    );
  });

  it('accepts a token signed with a rotated-in key: jose refetches the key set on an unknown kid', async () => {
    // Cooldown 0 so the refetch may happen right after the first fetch (the default waits 5 s between fetches).
    const verifier = verifierFor({ jwksCooldownMs: 0 });
    await verifier.verify((await mint()).token, { tool: 'create_ticket', args: ARGS });
    const beforeRotation = await mint();
    const { kid, retiredKid } = await server.gatehouse.keyring.rotate();
    expect(retiredKid).not.toBeNull();
    const afterRotation = await mint();
    expect(afterRotation.token.split('.')[0]).not.toBe(beforeRotation.token.split('.')[0]);
    await expect(
      verifier.verify(afterRotation.token, { tool: 'create_ticket', args: ARGS }),
    ).resolves.toMatchObject({ jti: afterRotation.jti });
    // The retired key stays published for its verify window, so capabilities in flight still pass.
    await expect(
      verifier.verify(beforeRotation.token, { tool: 'create_ticket', args: ARGS }),
    ).resolves.toBeTruthy();
    expect(kid).not.toBe(retiredKid);
  });

  it('says jwks_unavailable, not invalid, when the key set cannot be fetched', async () => {
    const closedPort = await findFreePort();
    const verifier = verifierFor({
      jwksUrl: `http://127.0.0.1:${closedPort}/.well-known/jwks.json`,
      jwksTimeoutMs: 2000,
    });
    expect(await codeOf(verifier.verify((await mint()).token, { tool: 'create_ticket', args: ARGS }))).toBe(
      'jwks_unavailable',
    );
  });
});
