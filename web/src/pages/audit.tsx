import { useEffect, useMemo, useState } from 'react';
import { api, can, type SignedIn, when } from '../api.js';
import { ActionButton } from '../components/action-button.js';
import { Empty, ErrorText, Loading } from '../components/states.js';
import type { AuditEntry, AuditVerifyReport } from '../types.js';

const PAGE = 500;

export function AuditPage({ who }: { who: SignedIn }) {
  if (!can(who.role, 'audit')) {
    return (
      <section>
        <h1>Audit</h1>
        <ErrorText
          message={`The ${who.role} role cannot read the audit log; an admin or auditor token can.`}
        />
      </section>
    );
  }
  return <AuditLog />;
}

function AuditLog() {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<number | null>(0);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [search, setSearch] = useState('');
  const [action, setAction] = useState('');
  const [report, setReport] = useState<AuditVerifyReport | null>(null);

  const loadMore = async (after: number) => {
    setLoading(true);
    try {
      const page = await api.get<{ entries: AuditEntry[]; next: number | null }>(
        `/admin/v1/audit/entries?after=${after}&limit=${PAGE}`,
      );
      setEntries((previous) => (after === 0 ? page.entries : [...previous, ...page.entries]));
      setNext(page.next);
      setError(null);
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setLoading(false);
    }
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: load the first page once
  useEffect(() => {
    void loadMore(0);
  }, []);

  const actions = useMemo(() => [...new Set(entries.map((entry) => entry.action))].sort(), [entries]);
  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return entries
      .filter((entry) => (action ? entry.action === action : true))
      .filter((entry) =>
        needle
          ? [entry.actor, entry.action, entry.target ?? '', JSON.stringify(entry.details)]
              .join(' ')
              .toLowerCase()
              .includes(needle)
          : true,
      )
      .reverse();
  }, [entries, search, action]);

  return (
    <section>
      <h1>Audit</h1>
      <div className="panel">
        <ActionButton
          label="Verify chain"
          busyLabel="Verifying…"
          run={async () => setReport(await api.post<AuditVerifyReport>('/admin/v1/audit/verify'))}
        />
        {report && (
          <p className={report.ok ? 'state ok' : 'state error'} data-testid="verify-result" role="status">
            {report.ok
              ? `Chain intact: ${report.entries} entries verified up to #${report.lastSeq}; ` +
                `${report.checkpoints.verified} signed checkpoints verified` +
                (report.checkpoints.unverifiable ? `, ${report.checkpoints.unverifiable} unverifiable.` : '.')
              : `Chain broken at entry #${report.firstBadSeq ?? '?'}: ${report.problem?.message ?? 'unknown problem'} ` +
                `(${report.entries} entries checked before it).`}
          </p>
        )}
      </div>
      <div className="filters">
        <label>
          Search{' '}
          <input
            type="search"
            value={search}
            placeholder="actor, action, target, details"
            onChange={(event) => setSearch(event.target.value)}
          />
        </label>
        <label>
          Action{' '}
          <select value={action} onChange={(event) => setAction(event.target.value)}>
            <option value="">all</option>
            {actions.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <span>
          {shown.length} of {entries.length} loaded entries
        </span>
      </div>
      {error && <ErrorText message={`Could not load the audit log: ${error}`} />}
      {loading && entries.length === 0 ? (
        <Loading what="the audit log" />
      ) : shown.length === 0 ? (
        <Empty>{entries.length === 0 ? 'The audit log is empty.' : 'No entries match.'}</Empty>
      ) : (
        <div className="table-wrap">
          <table className="audit">
            <thead>
              <tr>
                <th>#</th>
                <th>Time</th>
                <th>Actor</th>
                <th>Action</th>
                <th>Target</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((entry) => (
                <tr key={entry.seq}>
                  <td>{entry.seq}</td>
                  <td>{when(entry.time)}</td>
                  <td>{entry.actor}</td>
                  <td>{entry.action}</td>
                  <td>{entry.target ?? '—'}</td>
                  <td>
                    <code className="details">{JSON.stringify(entry.details)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next !== null && next !== 0 && (
        <button type="button" disabled={loading} onClick={() => loadMore(next)}>
          Load more entries
        </button>
      )}
    </section>
  );
}
