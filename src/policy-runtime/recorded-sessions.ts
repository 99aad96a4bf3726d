import type { RecordedSession } from '../policy/index.js';
import type { SessionCall, Store } from '../store/index.js';

/** Sessions started at or after `since`, with their calls, as the diff replays them. At most `limit` calls. */
export async function loadRecordedSessions(
  store: Store,
  options: { since: number; limit: number },
): Promise<RecordedSession[]> {
  const calls = await store.sessions.callsSince(options.since, options.limit);
  const bySession = new Map<string, SessionCall[]>();
  for (const call of calls) {
    const list = bySession.get(call.sessionId);
    if (list) list.push(call);
    else bySession.set(call.sessionId, [call]);
  }
  const sessions: RecordedSession[] = [];
  for (const [id, sessionCalls] of bySession) {
    const stored = await store.sessions.find(id);
    const first = sessionCalls[0] as SessionCall;
    sessions.push({
      id,
      subject: {
        // The principal as it was when the call was decided, so a later registry change does not show as a diff.
        principal: first.principal,
        scope: stored?.scope ?? {},
        ...(stored?.user ? { user: stored.user } : {}),
        chain: stored?.chain ?? [],
        sessionId: id,
      },
      calls: sessionCalls.map((call) => ({
        tool: call.tool,
        args: call.args,
        at: call.at,
        // An approve decision's outcome says whether the human approved.
        approved: call.outcome === 'allowed',
      })),
    });
  }
  return sessions;
}
