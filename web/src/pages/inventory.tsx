import { useState } from 'react';
import { api, enc, when } from '../api.js';
import { Badge, Empty, Loaded, useLoad } from '../components/states.js';
import type { AgentView, InventorySummary, SessionView } from '../types.js';

interface Filters {
  team: string;
  reviewStatus: string;
  state: string;
  trouble: '' | 'orphaned' | 'needsSponsor';
}

/** "47 agents — 6 approved, 41 unreviewed", as people say it. */
export function describeSummary(summary: InventorySummary): string {
  const agents = `${summary.total} ${summary.total === 1 ? 'agent' : 'agents'}`;
  return `${agents} — ${summary.approved} approved, ${summary.unreviewed} unreviewed, ${summary.rejected} rejected`;
}

export function InventoryPage() {
  const [filters, setFilters] = useState<Filters>({ team: '', reviewStatus: '', state: '', trouble: '' });
  const teams = useLoad(() => api.get<{ teams: { id: string; name: string }[] }>('/admin/v1/teams'), []);
  const agents = useLoad(() => {
    const query = new URLSearchParams();
    if (filters.team) query.set('team', filters.team);
    if (filters.reviewStatus) query.set('reviewStatus', filters.reviewStatus);
    if (filters.state) query.set('state', filters.state);
    if (filters.trouble) query.set(filters.trouble, 'true');
    return api.get<{ summary: InventorySummary; agents: AgentView[] }>(`/admin/v1/agents?${query}`);
  }, [filters]);
  // Last activity: the newest session of each agent (the sessions list is newest first).
  const sessions = useLoad(() => api.get<{ sessions: SessionView[] }>('/admin/v1/sessions?limit=1000'), []);
  const lastActivity = new Map<string, string>();
  if (sessions.status === 'ready') {
    for (const session of sessions.data.sessions) {
      if (!lastActivity.has(session.agentId)) lastActivity.set(session.agentId, session.updatedAt);
    }
  }
  const set = (key: keyof Filters) => (event: React.ChangeEvent<HTMLSelectElement>) =>
    setFilters({ ...filters, [key]: event.target.value });
  return (
    <section>
      <h1>Inventory</h1>
      <Loaded load={agents} what="the inventory">
        {({ summary }) => (
          <div className="summary" data-testid="summary">
            <p className="headline">{describeSummary(summary)}</p>
            <p>
              {summary.active} active, {summary.suspended} suspended, {summary.retired} retired;{' '}
              {summary.needsSponsor} need a sponsor, {summary.orphaned} orphaned
            </p>
          </div>
        )}
      </Loaded>
      <div className="filters">
        <label>
          Team{' '}
          <select value={filters.team} onChange={set('team')}>
            <option value="">all</option>
            {teams.status === 'ready' &&
              teams.data.teams.map((team) => (
                <option key={team.id} value={team.name}>
                  {team.name}
                </option>
              ))}
          </select>
        </label>
        <label>
          Review{' '}
          <select value={filters.reviewStatus} onChange={set('reviewStatus')}>
            <option value="">all</option>
            <option value="unreviewed">unreviewed</option>
            <option value="approved">approved</option>
            <option value="rejected">rejected</option>
          </select>
        </label>
        <label>
          State{' '}
          <select value={filters.state} onChange={set('state')}>
            <option value="">all</option>
            <option value="active">active</option>
            <option value="suspended">suspended</option>
            <option value="retired">retired</option>
          </select>
        </label>
        <label>
          Attention{' '}
          <select value={filters.trouble} onChange={set('trouble')}>
            <option value="">any</option>
            <option value="orphaned">orphaned</option>
            <option value="needsSponsor">needs a sponsor</option>
          </select>
        </label>
      </div>
      <Loaded load={agents} what="agents">
        {({ agents: list }) =>
          list.length === 0 ? (
            <Empty>No agents match these filters.</Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Agent</th>
                    <th>Team</th>
                    <th>Sponsor</th>
                    <th>Review</th>
                    <th>State</th>
                    <th>Last activity</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((agent) => (
                    <tr key={agent.id}>
                      <td>
                        <a href={`#/agents/${enc(agent.id)}`}>{agent.name}</a>
                        {agent.orphaned && <Badge value="orphaned" />}
                        {agent.needsSponsor && <Badge value="needs-sponsor" />}
                      </td>
                      <td>{agent.team.name ?? agent.team.id}</td>
                      <td>{agent.sponsor.email ?? agent.sponsor.id}</td>
                      <td>
                        <Badge value={agent.reviewStatus} />
                      </td>
                      <td>
                        <Badge value={agent.state} />
                      </td>
                      <td>
                        {lastActivity.has(agent.id)
                          ? when(lastActivity.get(agent.id))
                          : sessions.status === 'ready'
                            ? 'no sessions'
                            : '…'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loaded>
    </section>
  );
}
