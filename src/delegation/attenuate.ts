import { GatehouseError } from '../errors/index.js';
import { canonicalJson } from '../lib/canonical-json.js';
import { narrowToolScope } from './tool-scope.js';

/** What a parent grants that a child may narrow: tools, task scope and lifetime. */
export interface Grant {
  /** Tool patterns; undefined for no restriction by the token. */
  tools?: string[] | undefined;
  task?: Record<string, unknown> | undefined;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export interface GrantRequest {
  tools?: string[] | undefined;
  task?: Record<string, unknown> | undefined;
}

/**
 * The child's grant: the intersection of the parent's and the request. Tools must each be covered by the
 * parent's; the task may add keys but must keep every key of the parent's task with the same value; expiry is
 * never later than the parent's. A request for more than the parent has is `invalid_scope`.
 */
export function attenuateGrant(parent: Grant, requested: GrantRequest, limit: { exp: number }): Grant {
  const tools = narrowToolScope(parent.tools, requested.tools);
  const task = narrowTask(parent.task, requested.task);
  return {
    ...(tools === undefined ? {} : { tools }),
    ...(task === undefined ? {} : { task }),
    exp: Math.min(parent.exp, limit.exp),
  };
}

function narrowTask(
  parent: Record<string, unknown> | undefined,
  requested: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (requested === undefined) return parent;
  if (parent === undefined) return requested;
  for (const [key, value] of Object.entries(parent)) {
    if (!(key in requested)) {
      throw new GatehouseError('invalid_scope', `the task drops \`${key}\`, which the parent token fixes`);
    }
    if (canonicalJson(requested[key]) !== canonicalJson(value)) {
      throw new GatehouseError(
        'invalid_scope',
        `the task changes \`${key}\`, which the parent token fixes to ${canonicalJson(value).slice(0, 100)}`,
      );
    }
  }
  return requested;
}
