import { EventEmitter } from 'node:events';
import { auditedTransaction } from '../audit/audited-transaction.js';
import { GatehouseError } from '../errors/index.js';
import { type AdminPrincipal, hasPermission } from '../identity/admin-principal.js';
import type { Clock } from '../lib/clock.js';
import { createId } from '../lib/ids.js';
import type { ChainLink, Decision } from '../policy/index.js';
import type { ApprovalRecord, ApprovalVote, Store } from '../store/index.js';
import type { Vault } from '../vault/index.js';
import { argsSha256 } from '../verify/index.js';
import { redactArguments } from './redact-arguments.js';
import { createWebhookNotifier, type WebhookTarget } from './webhook-notifier.js';

/** How often a waiting call re-reads its request, so a decision made by another process is seen within a second. */
export const APPROVAL_POLL_MS = 500;
const EXPIRY_SWEEP_MS = 5000;

export interface ApprovalsConfig {
  waitTimeout: number;
  expiry: number;
  webhooks: readonly WebhookTarget[];
}

/** A request as the admin API, the CLI, the dashboard and webhooks show it. */
export interface ApprovalView {
  id: string;
  state: ApprovalRecord['state'];
  agent: { id: string; name: string | null; sponsorId: string | null };
  sessionId: string;
  user: { id: string; email: string | null } | null;
  chain: ChainLink[];
  tool: string;
  argsSha256: string;
  arguments: Record<string, unknown>;
  ruleIds: string[];
  reason: string;
  required: number;
  approvals: number;
  votes: { approverId: string; actor: string; vote: 'approve' | 'deny'; reason: string; at: string }[];
  requestedAt: string;
  expiresAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolutionReason: string | null;
  consumedAt: string | null;
}

/** What the live stream and the webhooks announce. */
export interface ApprovalEvent {
  type: 'approval.requested' | 'approval.voted' | 'approval.resolved' | 'approval.consumed';
  approval: ApprovalView;
}

/** The call to park: who, in which session, which tool with which arguments, and the decision that asked. */
export interface ParkCallInput {
  agentId: string;
  sessionId: string;
  tool: string;
  args: Record<string, unknown>;
  decision: Decision;
}

export interface WaitControls {
  signal: AbortSignal;
  onProgress?: (progress: { progress: number; total?: number; message?: string }) => void;
}

export interface ApprovalService {
  /**
   * Gets the exact call (session, tool, argument hash) approved: an approved, unused request is used at once;
   * otherwise a pending one for the same call is reused, or a new one is parked, and the call waits up to
   * `waitTimeout`. Resolves with the request id once approved and marked used (the caller then runs the call);
   * throws `approval_denied`, `approval_expired` or `approval_pending` (with the request id) otherwise.
   */
  awaitApproval(input: ParkCallInput, controls: WaitControls): Promise<string>;
  list(filter?: { state?: 'pending' | 'resolved'; limit?: number }): Promise<ApprovalView[]>;
  get(id: string): Promise<ApprovalView>;
  /** One approver's approval; the request is approved once `required` distinct approvers agreed. Audited. */
  approve(principal: AdminPrincipal, id: string, reason: string): Promise<ApprovalView>;
  /** One approver's denial: it denies the request at once. Audited. */
  deny(principal: AdminPrincipal, id: string, reason: string): Promise<ApprovalView>;
  /** Marks every pending request past its expiry as expired (denied); returns how many. */
  expireDue(): Promise<number>;
  /** Live changes made through this process; returns the unsubscribe function. */
  subscribe(listener: (event: ApprovalEvent) => void): () => void;
  /** Changes in the store (from any process) after `since`, epoch ms; for polling clients. */
  changedSince(since: number): Promise<ApprovalView[]>;
  close(): Promise<void>;
}

export interface ApprovalServiceDeps {
  store: Store;
  clock: Clock;
  vault: Pick<Vault, 'reveal'>;
  config: ApprovalsConfig;
  log?: (line: string) => void;
}

const iso = (time: number | null) => (time === null ? null : new Date(time).toISOString());

export function createApprovalService(deps: ApprovalServiceDeps): ApprovalService {
  const { store, clock, config } = deps;
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const webhooks = createWebhookNotifier({
    targets: config.webhooks,
    vault: deps.vault,
    clock,
    log: deps.log ?? ((line) => process.stderr.write(`${line}\n`)),
  });

  const view = async (record: ApprovalRecord, votes?: ApprovalVote[]): Promise<ApprovalView> => {
    const [agent, cast] = await Promise.all([
      store.agents.findById(record.agentId),
      votes ?? store.approvals.listVotes(record.id),
    ]);
    return {
      id: record.id,
      state: record.state,
      agent: { id: record.agentId, name: agent?.name ?? null, sponsorId: agent?.sponsorId ?? null },
      sessionId: record.sessionId,
      user: record.userId === null ? null : { id: record.userId, email: record.userEmail },
      chain: record.chain,
      tool: record.tool,
      argsSha256: record.argsSha256,
      arguments: record.arguments,
      ruleIds: record.ruleIds,
      reason: record.reason,
      required: record.required,
      approvals: cast.filter((vote) => vote.vote === 'approve').length,
      votes: cast.map((vote) => ({
        approverId: vote.approverId,
        actor: vote.actor,
        vote: vote.vote,
        reason: vote.reason,
        at: new Date(vote.at).toISOString(),
      })),
      requestedAt: new Date(record.requestedAt).toISOString(),
      expiresAt: new Date(record.expiresAt).toISOString(),
      resolvedAt: iso(record.resolvedAt),
      resolvedBy: record.resolvedBy,
      resolutionReason: record.resolutionReason,
      consumedAt: iso(record.consumedAt),
    };
  };

  const announce = async (type: ApprovalEvent['type'], id: string) => {
    const record = await store.approvals.find(id);
    if (!record) return;
    const approval = await view(record);
    emitter.emit('change', { type, approval } satisfies ApprovalEvent);
    if (type === 'approval.requested' || type === 'approval.resolved') webhooks.send(type, { approval });
  };
  const announceQuietly = (type: ApprovalEvent['type'], id: string) =>
    announce(type, id).catch((error) =>
      (deps.log ?? (() => {}))(`warning: approval event not announced: ${String(error)}`),
    );

  const requireRecord = async (id: string) => {
    const record = await store.approvals.find(id);
    if (!record) throw new GatehouseError('approval_not_found', `no approval request \`${id}\``);
    return record;
  };

  /** Expires one request if it is due; true if this call expired it. */
  const expireIfDue = async (record: ApprovalRecord): Promise<boolean> => {
    const now = clock.now();
    if (record.state !== 'pending' || record.expiresAt > now) return false;
    const expired = await auditedTransaction({ store, clock }, 'system', async (tx, emit) => {
      if (!(await tx.approvals.resolve(record.id, 'expired', now, null, 'expired before enough approvals'))) {
        return false;
      }
      emit({
        action: 'approval.expired',
        target: `approval:${record.id}`,
        details: { tool: record.tool, session: record.sessionId, agent: record.agentId },
      });
      return true;
    });
    if (expired) await announceQuietly('approval.resolved', record.id);
    return expired;
  };

  const fresh = async (id: string) => {
    const record = await requireRecord(id);
    return (await expireIfDue(record)) ? requireRecord(id) : record;
  };

  const vote = async (
    principal: AdminPrincipal,
    id: string,
    choice: 'approve' | 'deny',
    reason: string,
  ): Promise<ApprovalView> => {
    if (!hasPermission(principal, 'approve')) {
      throw new GatehouseError('forbidden', `role \`${principal.role}\` may not approve calls`);
    }
    const approverId = principal.userId;
    if (approverId === null) {
      throw new GatehouseError(
        'approver_user_required',
        'approving needs a person: use an admin token bound to a user with the `approver` or `admin` role',
      );
    }
    const before = await fresh(id);
    if (before.state === 'expired')
      throw new GatehouseError('approval_expired', `approval \`${id}\` expired`);
    if (before.state !== 'pending') {
      throw new GatehouseError('approval_resolved', `approval \`${id}\` is already ${before.state}`, {
        details: { state: before.state },
      });
    }
    const [agent, approver] = await Promise.all([
      store.agents.findById(before.agentId),
      store.users.findById(approverId),
    ]);
    if (agent?.sponsorId === approverId) {
      throw new GatehouseError(
        'approver_is_sponsor',
        "the agent's sponsor may not approve its calls: a second person must",
      );
    }
    if (
      before.userId === approverId ||
      (before.userEmail !== null && approver?.email.toLowerCase() === before.userEmail.toLowerCase())
    ) {
      throw new GatehouseError(
        'approver_is_user',
        'the user on whose behalf the session runs may not approve its calls',
      );
    }
    const outcome = await auditedTransaction({ store, clock }, principal.actor, async (tx, emit) => {
      const now = clock.now();
      const current = await tx.approvals.find(id);
      if (current?.state !== 'pending') {
        throw new GatehouseError('approval_resolved', `approval \`${id}\` is already ${current?.state}`, {
          details: { state: current?.state },
        });
      }
      const added = await tx.approvals.addVote({
        requestId: id,
        approverId,
        actor: principal.actor,
        vote: choice,
        reason,
        at: now,
      });
      // A second click by the same approver counts once: nothing changes, nothing is audited twice.
      if (!added) return 'repeat' as const;
      const target = `approval:${id}`;
      const details = { tool: current.tool, session: current.sessionId, agent: current.agentId, reason };
      if (choice === 'deny') {
        await tx.approvals.resolve(id, 'denied', now, principal.actor, reason);
        emit({ action: 'approval.denied', target, details: { ...details, approver: approverId } });
        return 'resolved' as const;
      }
      const votes = await tx.approvals.listVotes(id);
      const approvals = votes.filter((cast) => cast.vote === 'approve').length;
      if (approvals >= current.required) {
        await tx.approvals.resolve(id, 'approved', now, principal.actor, reason);
        emit({
          action: 'approval.approved',
          target,
          details: { ...details, approver: approverId, approvals, required: current.required },
        });
        return 'resolved' as const;
      }
      emit({
        action: 'approval.voted',
        target,
        details: { ...details, approver: approverId, approvals, required: current.required },
      });
      return 'voted' as const;
    });
    if (outcome !== 'repeat') {
      await announceQuietly(outcome === 'resolved' ? 'approval.resolved' : 'approval.voted', id);
    }
    return view(await requireRecord(id));
  };

  /** Resolves on a change of `id` in this process, after `ms`, or on abort; whichever comes first. */
  const wake = (id: string, ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        emitter.off('change', onChange);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const onChange = (event: ApprovalEvent) => {
        if (event.approval.id === id) done();
      };
      const timer = setTimeout(done, ms);
      emitter.on('change', onChange);
      signal.addEventListener('abort', done, { once: true });
    });

  const consume = async (record: ApprovalRecord, actor: string): Promise<boolean> => {
    const used = await auditedTransaction({ store, clock }, actor, async (tx, emit) => {
      if (!(await tx.approvals.consume(record.id, clock.now()))) return false;
      emit({
        action: 'approval.consumed',
        target: `approval:${record.id}`,
        details: { tool: record.tool, session: record.sessionId },
      });
      return true;
    });
    if (used) void announceQuietly('approval.consumed', record.id);
    return used;
  };

  const park = async (input: ParkCallInput, hash: string): Promise<ApprovalRecord> => {
    const session = await store.sessions.find(input.sessionId);
    const now = clock.now();
    const record: ApprovalRecord = {
      id: createId('apr'),
      state: 'pending',
      agentId: input.agentId,
      sessionId: input.sessionId,
      userId: session?.user?.id ?? null,
      userEmail: session?.user?.email ?? null,
      chain: session?.chain ?? [],
      tool: input.tool,
      argsSha256: hash,
      arguments: redactArguments(input.args),
      ruleIds: input.decision.approval?.ruleIds ?? input.decision.ruleIds,
      reason: input.decision.reason,
      required: input.decision.approval?.approvers ?? 1,
      requestedAt: now,
      expiresAt: now + config.expiry,
      resolvedAt: null,
      resolvedBy: null,
      resolutionReason: null,
      consumedAt: null,
      updatedAt: now,
    };
    await auditedTransaction({ store, clock }, `agent:${input.agentId}`, async (tx, emit) => {
      await tx.approvals.insert(record);
      emit({
        action: 'approval.requested',
        target: `approval:${record.id}`,
        details: {
          tool: record.tool,
          session: record.sessionId,
          agent: record.agentId,
          ruleIds: record.ruleIds,
          required: record.required,
          expiresAt: new Date(record.expiresAt).toISOString(),
        },
      });
    });
    await announceQuietly('approval.requested', record.id);
    return record;
  };

  const expireDue = async () => {
    const now = clock.now();
    let expired = 0;
    for (const record of await store.approvals.list({ state: 'pending', limit: 1000 })) {
      if (record.expiresAt <= now && (await expireIfDue(record))) expired += 1;
    }
    return expired;
  };

  // Requests nobody waits on expire too, so the audit and webhooks learn of it without anyone looking.
  const sweeper = setInterval(() => {
    expireDue().catch((error) =>
      (deps.log ?? (() => {}))(`warning: approval expiry sweep failed: ${String(error)}`),
    );
  }, EXPIRY_SWEEP_MS);
  sweeper.unref();

  return {
    async awaitApproval(input, controls) {
      const actor = `agent:${input.agentId}`;
      const hash = argsSha256(input.args);
      const now = clock.now();
      const earlier = await store.approvals.listForCall(input.sessionId, input.tool, hash);
      // An approved retry runs once, and only within the expiry window after the approval.
      for (const record of earlier) {
        if (
          record.state === 'approved' &&
          record.consumedAt === null &&
          (record.resolvedAt ?? 0) + config.expiry > now &&
          (await consume(record, actor))
        ) {
          return record.id;
        }
      }
      let request = earlier.find((record) => record.state === 'pending' && record.expiresAt > now);
      request ??= await park(input, hash);
      const id = request.id;
      const started = clock.now();
      const waitUntil = started + config.waitTimeout;
      let tick = 0;
      for (;;) {
        if (controls.signal.aborted) {
          throw new GatehouseError('call_cancelled', 'the call was cancelled while waiting for approval');
        }
        const record = await fresh(id);
        if (record.state === 'approved') {
          if (await consume(record, actor)) return id;
          throw new GatehouseError(
            'approval_resolved',
            `approval \`${id}\` was already used by another call`,
            {
              details: { approvalId: id },
            },
          );
        }
        if (record.state === 'denied') {
          throw new GatehouseError(
            'approval_denied',
            `approval \`${id}\` was denied: ${record.resolutionReason}`,
            {
              details: { approvalId: id, reason: record.resolutionReason },
            },
          );
        }
        if (record.state === 'expired') {
          throw new GatehouseError('approval_expired', `approval \`${id}\` expired; the call is denied`, {
            details: { approvalId: id },
          });
        }
        const current = clock.now();
        if (current >= waitUntil) {
          throw new GatehouseError(
            'approval_pending',
            `approval \`${id}\` is still pending; retry the identical call once it is approved`,
            {
              details: {
                approvalId: id,
                required: record.required,
                expiresAt: new Date(record.expiresAt).toISOString(),
              },
            },
          );
        }
        tick += 1;
        controls.onProgress?.({
          progress: tick,
          message: `waiting for approval ${id} (${(await store.approvals.listVotes(id)).filter((v) => v.vote === 'approve').length}/${record.required})`,
        });
        await wake(
          id,
          Math.min(APPROVAL_POLL_MS, waitUntil - current, record.expiresAt - current + 1),
          controls.signal,
        );
      }
    },
    async list(filter = {}) {
      await expireDue();
      const records = await store.approvals.list(filter);
      return Promise.all(records.map((record) => view(record)));
    },
    async get(id) {
      return view(await fresh(id));
    },
    approve: (principal, id, reason) => vote(principal, id, 'approve', reason),
    deny: (principal, id, reason) => vote(principal, id, 'deny', reason),
    expireDue,
    subscribe(listener) {
      emitter.on('change', listener);
      return () => emitter.off('change', listener);
    },
    async changedSince(since) {
      const records = await store.approvals.listChangedSince(since, 200);
      return Promise.all(records.map((record) => view(record)));
    },
    async close() {
      clearInterval(sweeper);
      emitter.removeAllListeners();
      await webhooks.close();
    },
  };
}
