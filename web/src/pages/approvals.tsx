import { useEffect, useState } from 'react';
import { ApiError, api, can, enc, type SignedIn, when } from '../api.js';
import { ActionButton } from '../components/action-button.js';
import { Badge, Empty, ErrorText, Loading } from '../components/states.js';

/** An approval request as the admin API describes it (docs/approvals.md). */
interface Approval {
  id: string;
  state: 'pending' | 'approved' | 'denied' | 'expired';
  agent: { id: string; name: string | null; sponsorId: string | null };
  sessionId: string;
  user: { id: string; email: string | null } | null;
  chain: unknown[];
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

const EVENT_TYPES = [
  'approval.requested',
  'approval.voted',
  'approval.resolved',
  'approval.consumed',
  'approval.changed',
];

type QueueState =
  | { status: 'loading' }
  | { status: 'unavailable' }
  | { status: 'error'; message: string }
  | { status: 'ready'; pending: Approval[]; resolved: Approval[] };

const POLL_MS = 3000;

export function ApprovalsPage({ who }: { who: SignedIn }) {
  const [state, setState] = useState<QueueState>({ status: 'loading' });
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick triggers a reload
  useEffect(() => {
    let live = true;
    Promise.all([
      api.get<{ approvals: Approval[] }>('/admin/v1/approvals?state=pending'),
      api.get<{ approvals: Approval[] }>('/admin/v1/approvals?state=resolved'),
    ]).then(
      ([pending, resolved]) =>
        live && setState({ status: 'ready', pending: pending.approvals, resolved: resolved.approvals }),
      (error: unknown) => {
        if (!live) return;
        if (error instanceof ApiError && error.code === 'route_not_found')
          setState({ status: 'unavailable' });
        else setState({ status: 'error', message: error instanceof Error ? error.message : String(error) });
      },
    );
    return () => {
      live = false;
    };
  }, [tick]);
  // Live updates once the queue loaded: server-sent events when the server offers them, polling otherwise.
  const ready = state.status === 'ready';
  useEffect(() => {
    if (!ready) return;
    let events: EventSource | undefined;
    let timer: ReturnType<typeof setInterval> | undefined;
    const poll = () => {
      timer ??= setInterval(() => setTick((t) => t + 1), POLL_MS);
    };
    if (typeof EventSource === 'function') {
      events = new EventSource('/admin/v1/approvals/events');
      // Named events: a change of any request re-reads the queue (the list is the source of truth).
      for (const type of EVENT_TYPES) events.addEventListener(type, () => setTick((t) => t + 1));
      events.onopen = () => setTick((t) => t + 1);
      events.onerror = () => {
        events?.close();
        poll();
      };
    } else poll();
    return () => {
      events?.close();
      clearInterval(timer);
    };
  }, [ready]);

  const reload = () => setTick((t) => t + 1);
  return (
    <section>
      <h1>Approvals</h1>
      {state.status === 'loading' && <Loading what="the approvals queue" />}
      {state.status === 'unavailable' && (
        <p className="state empty" data-testid="approvals-unavailable">
          Approvals are not available on this Gatehouse server yet: it has no approvals API.
        </p>
      )}
      {state.status === 'error' && (
        <ErrorText message={`Could not load the approvals queue: ${state.message}`} />
      )}
      {state.status === 'ready' && (
        <>
          <h2>Pending</h2>
          {state.pending.length === 0 ? (
            <Empty>Nothing is waiting for approval.</Empty>
          ) : (
            state.pending.map((approval) => (
              <ApprovalCard key={approval.id} approval={approval} who={who} onResolved={reload} />
            ))
          )}
          <h2>Resolved</h2>
          {state.resolved.length === 0 ? (
            <Empty>No resolved requests yet.</Empty>
          ) : (
            state.resolved.map((approval) => <ApprovalCard key={approval.id} approval={approval} who={who} />)
          )}
        </>
      )}
    </section>
  );
}

function ApprovalCard({
  approval,
  who,
  onResolved,
}: {
  approval: Approval;
  who: SignedIn;
  onResolved?: () => void;
}) {
  const [reason, setReason] = useState('');
  const decide = (verdict: 'approve' | 'deny') => async () => {
    await api.post(`/admin/v1/approvals/${enc(approval.id)}/${verdict}`, { reason: reason.trim() });
    setReason('');
    onResolved?.();
  };
  return (
    <article className={`panel approval approval-${approval.state}`} data-testid="approval">
      <h3>
        <code>{approval.tool}</code> by{' '}
        <a href={`#/agents/${enc(approval.agent.id)}`}>{approval.agent.name ?? approval.agent.id}</a>{' '}
        <Badge value={approval.state} />
      </h3>
      <dl className="facts">
        <dt>Why</dt>
        <dd>
          {approval.reason} {approval.ruleIds.length > 0 && `(rules: ${approval.ruleIds.join(', ')})`}
        </dd>
        <dt>On behalf of</dt>
        <dd>
          {approval.user ? (approval.user.email ?? approval.user.id) : 'no user (the agent on its own)'}
        </dd>
        <dt>Session</dt>
        <dd>
          <a href={`#/sessions/${enc(approval.sessionId)}`}>{approval.sessionId}</a>
          {approval.chain.length > 0 && ` — delegation chain of ${approval.chain.length}`}
        </dd>
        <dt>Approvals</dt>
        <dd>
          {approval.approvals} of {approval.required} needed
        </dd>
        <dt>Requested</dt>
        <dd>{when(approval.requestedAt)}</dd>
        <dt>{approval.state === 'pending' ? 'Expires' : 'Resolved'}</dt>
        <dd>
          {approval.state === 'pending'
            ? when(approval.expiresAt)
            : `${when(approval.resolvedAt)}${approval.resolvedBy ? ` by ${approval.resolvedBy}` : ''}${
                approval.resolutionReason ? ` — “${approval.resolutionReason}”` : ''
              }${approval.consumedAt ? `; the call ran ${when(approval.consumedAt)}` : ''}`}
        </dd>
        <dt>Request</dt>
        <dd>
          <code>{approval.id}</code>, arguments SHA-256 <code>{approval.argsSha256.slice(0, 16)}…</code>
        </dd>
      </dl>
      <h4>Arguments (secrets redacted)</h4>
      <pre>{JSON.stringify(approval.arguments, null, 2)}</pre>
      {approval.votes.length > 0 && (
        <ul className="votes">
          {approval.votes.map((vote) => (
            <li key={`${vote.approverId}-${vote.at}`}>
              {vote.actor} voted {vote.vote} on {when(vote.at)}: “{vote.reason}”
            </li>
          ))}
        </ul>
      )}
      {onResolved && approval.state === 'pending' && can(who.role, 'approve') && (
        <div>
          <input
            aria-label="Reason"
            placeholder="Reason (required, audited)"
            value={reason}
            onChange={(event) => setReason(event.target.value)}
          />
          <ActionButton label="Approve" run={decide('approve')} disabled={reason.trim() === ''} />
          <ActionButton
            label="Deny"
            className="danger"
            run={decide('deny')}
            disabled={reason.trim() === ''}
          />
        </div>
      )}
    </article>
  );
}
