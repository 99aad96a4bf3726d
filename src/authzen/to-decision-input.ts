import { type DecisionInput, emptySessionState, type Principal } from '../policy/index.js';
import type { AuthzenEvaluation, AuthzenSubject, JsonObject } from './types.js';

/** `resource.type` that names one tool call of Gatehouse's own vocabulary. */
export const TOOL_RESOURCE_TYPE = 'tool';
/** The one action a `tool` resource has. */
export const TOOL_ACTION = 'call';
/** `subject.type` that names a registered agent. */
export const AGENT_SUBJECT_TYPE = 'agent';

export type DecisionInputMapping =
  | { ok: true; input: DecisionInput }
  | { ok: false; code: 'unsupported_action'; reason: string };

/**
 * Maps one AuthZEN evaluation onto the policy engine's input. Pure.
 *
 * - `resource.type` `tool`: the tool call itself. `resource.id` is the tool (`github.create_issue`),
 *   `resource.properties.args` its arguments. The only action is `call`; any other is refused (never ignored, so
 *   "may X delete tool T" is not answered as "may X call T").
 * - Any other resource: the tool `<resource.type>.<action.name>` (`record.read`, `route.GET`), with
 *   `call.args = {subject, resource, action, context}` as sent (absent `properties` and `context` become `{}`,
 *   so rules can guard keys with `has()`).
 * - The principal is `registered` (the registry's view of an agent subject) when given, else `{id: subject.id}`;
 *   `subject.properties` become `principal.properties` either way.
 * - The session is empty (AuthZEN is stateless); its scope is `context.scope` when that is an object.
 */
export function toDecisionInput(
  evaluation: AuthzenEvaluation,
  options: { now: number; registered?: Principal | undefined },
): DecisionInputMapping {
  const { subject, action, resource } = evaluation;
  const context = evaluation.context ?? {};
  const principal = principalOf(subject, options.registered);
  const session = { scope: scopeOf(context), state: emptySessionState() };
  if (resource.type === TOOL_RESOURCE_TYPE) {
    if (action.name !== TOOL_ACTION) {
      return {
        ok: false,
        code: 'unsupported_action',
        reason: `a \`tool\` resource only has the action \`${TOOL_ACTION}\`, not \`${action.name}\``,
      };
    }
    const args = resource.properties?.args;
    return {
      ok: true,
      input: {
        principal,
        call: { tool: resource.id, args: isJsonObject(args) ? args : {} },
        session,
        now: options.now,
      },
    };
  }
  return {
    ok: true,
    input: {
      principal,
      call: {
        tool: `${resource.type}.${action.name}`,
        args: {
          subject: { type: subject.type, id: subject.id, properties: subject.properties ?? {} },
          resource: { type: resource.type, id: resource.id, properties: resource.properties ?? {} },
          action: { name: action.name, properties: action.properties ?? {} },
          context,
        },
      },
      session,
      now: options.now,
    },
  };
}

/** The policy principal of a subject: the registry's view when there is one, plus the subject's properties. */
export function principalOf(subject: AuthzenSubject, registered?: Principal): Principal {
  const properties = subject.properties ?? {};
  return registered ? { ...registered, properties } : { id: subject.id, properties };
}

function scopeOf(context: JsonObject): JsonObject {
  return isJsonObject(context.scope) ? context.scope : {};
}

function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
