import { api, enc, when } from '../api.js';
import { Empty, Loaded, useLoad } from '../components/states.js';
import { describeTaint, type SessionView } from '../types.js';

export function SessionsPage() {
  const sessions = useLoad(() => api.get<{ sessions: SessionView[] }>('/admin/v1/sessions?limit=100'), []);
  return (
    <section>
      <h1>Sessions</h1>
      <Loaded load={sessions} what="sessions">
        {({ sessions: list }) =>
          list.length === 0 ? (
            <Empty>No sessions yet. They appear when an agent makes its first call.</Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Session</th>
                    <th>Agent</th>
                    <th>On behalf of</th>
                    <th>Calls</th>
                    <th>Taint</th>
                    <th>Last activity</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((session) => (
                    <tr key={session.id}>
                      <td>
                        <a href={`#/sessions/${enc(session.id)}`}>{session.id}</a>
                      </td>
                      <td>
                        <a href={`#/agents/${enc(session.agentId)}`}>{session.agentId}</a>
                      </td>
                      <td>{session.user ? (session.user.email ?? session.user.id) : '—'}</td>
                      <td>{session.steps}</td>
                      <td>{describeTaint(session.taint) || '—'}</td>
                      <td>{when(session.updatedAt)}</td>
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
