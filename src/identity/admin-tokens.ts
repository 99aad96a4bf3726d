import { createHash, randomBytes } from 'node:crypto';
import { auditedTransaction } from '../audit/audited-transaction.js';
import { GatehouseError } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { createId } from '../lib/ids.js';
import type { Store } from '../store/index.js';
import type { AdminPrincipal } from './admin-principal.js';
import type { AdminRole, AdminToken } from './types.js';

const SECRET_PREFIX = 'gha_';
const LAST_USED_GRANULARITY_MS = 60_000;

export interface AdminTokenDeps {
  store: Store;
  clock: Clock;
}

export interface CreatedAdminToken {
  token: AdminToken;
  /** The bearer secret: shown once, stored only as a hash. */
  secret: string;
}

export function hashAdminSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Mints an admin bearer token for a role, optionally bound to a user (needed for reviews). */
export async function createAdminToken(
  deps: AdminTokenDeps,
  actor: AdminPrincipal,
  input: { role: AdminRole; name?: string; userEmail?: string },
): Promise<CreatedAdminToken> {
  let userId: string | null = null;
  if (input.userEmail !== undefined) {
    const user = await deps.store.users.findByEmail(input.userEmail.toLowerCase());
    if (!user) throw new GatehouseError('user_not_found', `no user \`${input.userEmail}\``);
    if (!user.active) throw new GatehouseError('user_inactive', `user \`${input.userEmail}\` is deactivated`);
    userId = user.id;
  }
  const secret = `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
  const token: AdminToken = {
    id: createId('adm'),
    name: input.name ?? `${input.role} token`,
    role: input.role,
    userId,
    tokenHash: hashAdminSecret(secret),
    createdAt: deps.clock.now(),
    createdBy: actor.actor,
    revokedAt: null,
    lastUsedAt: null,
  };
  await auditedTransaction(deps, actor.actor, async (tx, emit) => {
    await tx.adminTokens.insert(token);
    emit({
      action: 'admin_token.created',
      target: token.id,
      details: { role: token.role, name: token.name, userId },
    });
  });
  return { token, secret };
}

/** Resolves a bearer secret to its principal; any failure is the same `unauthorized`, so probing learns nothing. */
export async function authenticateAdminToken(deps: AdminTokenDeps, secret: string): Promise<AdminPrincipal> {
  const rejected = new GatehouseError('unauthorized', 'a valid admin bearer token is required');
  if (!secret.startsWith(SECRET_PREFIX) || secret.length > 128) throw rejected;
  const token = await deps.store.adminTokens.findByHash(hashAdminSecret(secret));
  if (!token || token.revokedAt !== null) throw rejected;
  if (token.userId !== null) {
    const user = await deps.store.users.findById(token.userId);
    // A deactivated person's tokens stop working with them.
    if (!user?.active) throw rejected;
  }
  const now = deps.clock.now();
  // Recorded at minute granularity: enough to spot unused tokens, without a write on every request.
  if (token.lastUsedAt === null || now - token.lastUsedAt >= LAST_USED_GRANULARITY_MS) {
    await deps.store.adminTokens.touch(token.id, now);
  }
  return { actor: `admin:${token.id}`, role: token.role, userId: token.userId };
}

export async function revokeAdminToken(
  deps: AdminTokenDeps,
  actor: AdminPrincipal,
  id: string,
): Promise<void> {
  const token = await deps.store.adminTokens.findById(id);
  if (!token) throw new GatehouseError('admin_token_not_found', `no admin token \`${id}\``);
  await auditedTransaction(deps, actor.actor, async (tx, emit) => {
    if (await tx.adminTokens.revoke(id, deps.clock.now()))
      emit({ action: 'admin_token.revoked', target: id });
  });
}
