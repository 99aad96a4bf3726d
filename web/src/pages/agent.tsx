import { useState } from 'react';
import { api, can, enc, type SignedIn, when } from '../api.js';
import { ActionButton } from '../components/action-button.js';
import { Badge, Empty, Loaded, useLoad } from '../components/states.js';
import type { AgentView, ManifestVersion, SessionView } from '../types.js';

interface ListChange {
  added: string[];
  removed: string[];
}
interface ManifestDiff {
  from: number | null;
  to: number;
  diff: {
    changed: boolean;
    tools: ListChange;
    egressHosts: ListChange;
    llmProviders: ListChange;
    dataClasses: ListChange;
    description: { from: string; to: string } | null;
  };
}

export function AgentPage({ id, who }: { id: string; who: SignedIn }) {
  const agent = useLoad(() => api.get<{ agent: AgentView }>(`/admin/v1/agents/${enc(id)}`), [id]);
  return (
    <Loaded load={agent} what="the agent">
      {({ agent: view }, reload) => (
        <section>
          <p>
            <a href="#/">← Inventory</a>
          </p>
          <h1 data-testid="agent-name">{view.name}</h1>
          {view.description && <p>{view.description}</p>}
          <dl className="facts">
            <dt>Team</dt>
            <dd>{view.team.name ?? view.team.id}</dd>
            <dt>Sponsor</dt>
            <dd>
              {view.sponsor.email ?? view.sponsor.id}
              {!view.sponsor.active && ' (deactivated)'}
            </dd>
            <dt>Review</dt>
            <dd>
              <Badge value={view.reviewStatus} />
              {view.reviewedBy &&
                ` by ${view.reviewedBy.email ?? view.reviewedBy.id} on ${when(view.reviewedAt)}`}
              {view.reviewedVersion !== null && ` (manifest v${view.reviewedVersion})`}
              {view.reviewNote && ` — “${view.reviewNote}”`}
            </dd>
            <dt>State</dt>
            <dd>
              <span data-testid="agent-state">
                <Badge value={view.state} />
              </span>
              {view.stateReason && ` — ${view.stateReason}`}
            </dd>
            <dt>Manifest</dt>
            <dd>{view.manifestVersion === null ? 'none' : `v${view.manifestVersion}`}</dd>
            <dt>Id</dt>
            <dd>
              <code>{view.id}</code>
            </dd>
          </dl>
          <StateActions agent={view} who={who} onChange={reload} />
          <ReviewForm agent={view} who={who} onChange={reload} />
          <Manifests agentId={view.id} />
          <RecentSessions agentId={view.id} />
        </section>
      )}
    </Loaded>
  );
}

function StateActions({ agent, who, onChange }: { agent: AgentView; who: SignedIn; onChange: () => void }) {
  const [reason, setReason] = useState('');
  if (!can(who.role, 'write') || agent.state === 'retired') return null;
  const transition = agent.state === 'active' ? 'suspend' : 'resume';
  return (
    <div className="panel">
      <h2>State</h2>
      <input
        aria-label="Reason"
        placeholder="Reason (recorded in the audit log)"
        value={reason}
        onChange={(event) => setReason(event.target.value)}
      />
      <ActionButton
        label={transition === 'suspend' ? 'Suspend' : 'Resume'}
        className={transition === 'suspend' ? 'danger' : undefined}
        run={async () => {
          await api.post(`/admin/v1/agents/${enc(agent.id)}/${transition}`, reason ? { reason } : {});
          setReason('');
          onChange();
        }}
      />
    </div>
  );
}

function ReviewForm({ agent, who, onChange }: { agent: AgentView; who: SignedIn; onChange: () => void }) {
  const [note, setNote] = useState('');
  const [reviewer, setReviewer] = useState('');
  if (!can(who.role, 'review') || agent.manifestVersion === null) return null;
  const review = (decision: 'approve' | 'reject') => async () => {
    await api.post(`/admin/v1/agents/${enc(agent.id)}/review`, {
      decision,
      ...(note ? { note } : {}),
      ...(reviewer ? { reviewer } : {}),
    });
    setNote('');
    onChange();
  };
  return (
    <div className="panel">
      <h2>Review manifest v{agent.manifestVersion}</h2>
      <input
        aria-label="Review note"
        placeholder="Note"
        value={note}
        onChange={(event) => setNote(event.target.value)}
      />
      <input
        aria-label="Reviewer email"
        placeholder="Reviewer email (if your token is not bound to a user)"
        value={reviewer}
        onChange={(event) => setReviewer(event.target.value)}
      />
      <ActionButton label="Approve" run={review('approve')} />
      <ActionButton label="Reject" className="danger" run={review('reject')} />
    </div>
  );
}

function ChangeList({ label, change }: { label: string; change: ListChange }) {
  if (change.added.length === 0 && change.removed.length === 0) return null;
  return (
    <li>
      {label}:{' '}
      {change.added.map((item) => (
        <span key={`+${item}`} className="added">
          +{item}{' '}
        </span>
      ))}
      {change.removed.map((item) => (
        <span key={`-${item}`} className="removed">
          −{item}{' '}
        </span>
      ))}
    </li>
  );
}

function Manifests({ agentId }: { agentId: string }) {
  const manifests = useLoad(
    () => api.get<{ manifests: ManifestVersion[] }>(`/admin/v1/agents/${enc(agentId)}/manifests`),
    [agentId],
  );
  const diff = useLoad(
    () => api.get<ManifestDiff>(`/admin/v1/agents/${enc(agentId)}/manifest-diff`).catch(() => null),
    [agentId],
  );
  return (
    <div className="panel">
      <h2>Manifest versions</h2>
      <Loaded load={diff} what="the manifest diff">
        {(found) =>
          found && (
            <div className="diff">
              <h3>
                {found.from === null ? `v${found.to} (first version)` : `v${found.from} → v${found.to}`}
              </h3>
              {found.diff.changed ? (
                <ul>
                  <ChangeList label="Tools" change={found.diff.tools} />
                  <ChangeList label="Egress hosts" change={found.diff.egressHosts} />
                  <ChangeList label="LLM providers" change={found.diff.llmProviders} />
                  <ChangeList label="Data classes" change={found.diff.dataClasses} />
                  {found.diff.description && (
                    <li>
                      Description: “{found.diff.description.from}” → “{found.diff.description.to}”
                    </li>
                  )}
                </ul>
              ) : (
                <Empty>No changes.</Empty>
              )}
            </div>
          )
        }
      </Loaded>
      <Loaded load={manifests} what="manifest versions">
        {({ manifests: list }) =>
          list.length === 0 ? (
            <Empty>This agent has no manifest yet.</Empty>
          ) : (
            [...list].reverse().map((version) => (
              <details key={version.version}>
                <summary>
                  v{version.version} — {when(version.createdAt)} by {version.createdBy}
                </summary>
                <pre>{JSON.stringify(version.manifest, null, 2)}</pre>
              </details>
            ))
          )
        }
      </Loaded>
    </div>
  );
}

function RecentSessions({ agentId }: { agentId: string }) {
  const sessions = useLoad(
    () => api.get<{ sessions: SessionView[] }>(`/admin/v1/sessions?agent=${enc(agentId)}&limit=20`),
    [agentId],
  );
  return (
    <div className="panel">
      <h2>Recent sessions</h2>
      <Loaded load={sessions} what="sessions">
        {({ sessions: list }) =>
          list.length === 0 ? (
            <Empty>No sessions yet.</Empty>
          ) : (
            <ul>
              {list.map((session) => (
                <li key={session.id}>
                  <a href={`#/sessions/${enc(session.id)}`}>{session.id}</a> — {session.steps} calls, last{' '}
                  {when(session.updatedAt)}
                  {session.user && ` — for ${session.user.email ?? session.user.id}`}
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
    </div>
  );
}
