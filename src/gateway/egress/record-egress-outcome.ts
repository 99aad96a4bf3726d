import type { Gatehouse } from '../../server/create-gatehouse.js';
import type { EgressTarget } from './egress-target.js';

export interface EgressOutcome {
  agentId: string;
  method: string;
  target: EgressTarget;
  route?: string | undefined;
  sessionId?: string | undefined;
  step?: number | undefined;
  /** The status the agent got (200 for an established tunnel). */
  status: number;
  /** The refusal or failure code, when there was one. */
  code?: string | undefined;
  /** Body bytes from the agent to the destination, and back. */
  bytesSent: number;
  bytesReceived: number;
  durationMs: number;
}

/**
 * Audits how one egress request or tunnel ended (`egress.request.completed`): status, bytes both ways and
 * duration, beside the `egress.request.decided` entry of its decision. The query string is left out: it may
 * carry the agent's own secrets. Failures to audit go to `log`, never to the agent's response.
 */
export async function recordEgressOutcome(
  gatehouse: Gatehouse,
  outcome: EgressOutcome,
  log: (line: string) => void,
): Promise<void> {
  const { target } = outcome;
  await gatehouse.audit
    .record({
      actor: `agent:${outcome.agentId}`,
      action: 'egress.request.completed',
      target: outcome.sessionId === undefined ? null : `session:${outcome.sessionId}`,
      details: {
        method: outcome.method,
        scheme: target.scheme,
        host: target.host,
        port: target.port,
        ...(target.path === undefined ? {} : { path: target.path }),
        ...(outcome.route === undefined ? {} : { route: outcome.route }),
        ...(outcome.step === undefined ? {} : { step: outcome.step }),
        status: outcome.status,
        ...(outcome.code === undefined ? {} : { code: outcome.code }),
        bytesSent: outcome.bytesSent,
        bytesReceived: outcome.bytesReceived,
        durationMs: Math.round(outcome.durationMs * 100) / 100,
      },
    })
    .catch((error: unknown) =>
      log(`warning: egress outcome not audited: ${error instanceof Error ? error.message : String(error)}`),
    );
}
