import { api, enc, when } from '../api.js';
import { CallGraph } from '../components/call-graph.js';
import { Badge, Empty, Loaded, useLoad } from '../components/states.js';
import { type CallView, describeTaint, type GraphView, type SessionView } from '../types.js';

export function SessionPage({ id }: { id: string }) {
  const session = useLoad(
    () => api.get<{ session: SessionView; calls: CallView[] }>(`/admin/v1/sessions/${enc(id)}`),
    [id],
  );
  const graph = useLoad(() => api.get<{ graph: GraphView }>(`/admin/v1/sessions/${enc(id)}/graph`), [id]);
  return (
    <section>
      <p>
        <a href="#/sessions">← Sessions</a>
      </p>
      <h1>Session {id}</h1>
      <Loaded load={session} what="the session">
        {({ session: view, calls }) => (
          <>
            <dl className="facts">
              <dt>Agent</dt>
              <dd>
                <a href={`#/agents/${enc(view.agentId)}`}>{view.agentId}</a>
              </dd>
              <dt>On behalf of</dt>
              <dd>{view.user ? (view.user.email ?? view.user.id) : '—'}</dd>
              <dt>Scope</dt>
              <dd>
                <code>{JSON.stringify(view.scope)}</code>
              </dd>
              <dt>Taint</dt>
              <dd>{describeTaint(view.taint) || 'none'}</dd>
              <dt>Started</dt>
              <dd>{when(view.createdAt)}</dd>
            </dl>
            <h2>Timeline</h2>
            {calls.length === 0 ? (
              <Empty>No calls in this session yet.</Empty>
            ) : (
              <ol className="timeline" data-testid="timeline">
                {calls.map((call) => (
                  <li
                    key={call.step}
                    className={`call call-${call.effect} outcome-${call.outcome ?? 'none'}`}
                  >
                    <span className="step">#{call.step}</span> <span className="time">{when(call.at)}</span>{' '}
                    <code>{call.tool}</code> <Badge value={call.effect} />
                    {call.outcome === 'denied' && call.effect !== 'deny' && <Badge value="denied" />}
                    {call.code && <span className="code"> {call.code}</span>}
                    {call.ruleIds.length > 0 && (
                      <span className="rules"> rules: {call.ruleIds.join(', ')}</span>
                    )}
                  </li>
                ))}
              </ol>
            )}
          </>
        )}
      </Loaded>
      <h2>Call graph</h2>
      <Loaded load={graph} what="the call graph">
        {({ graph: data }) =>
          data.nodes.length === 0 ? <Empty>Nothing to draw yet.</Empty> : <CallGraph graph={data} />
        }
      </Loaded>
    </section>
  );
}
