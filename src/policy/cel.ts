import { Environment } from '@marcbachmann/cel-js';
import { registerMatcherFunctions } from './cel-functions.js';

/**
 * CEL conditions: parsed and type-checked once when the bundle compiles, evaluated per call. The variables in
 * scope are fixed here; an expression naming anything else does not compile.
 */
export const CEL_VARIABLES = ['call', 'principal', 'session', 'user', 'chain', 'now'] as const;

let environment: Environment | undefined;

function celEnvironment(): Environment {
  environment ??= registerMatcherFunctions(
    new Environment({ homogeneousAggregateLiterals: false, limits: { maxAstNodes: 2_000, maxDepth: 64 } })
      .registerVariable('call', 'map')
      .registerVariable('principal', 'map')
      .registerVariable('session', 'map')
      .registerVariable('user', 'dyn')
      .registerVariable('chain', 'list')
      .registerVariable('now', 'google.protobuf.Timestamp'),
  );
  return environment;
}

export type CelProgram = (context: Record<string, unknown>) => unknown;

export type CompiledCondition = { ok: true; program: CelProgram } | { ok: false; message: string };

export function compileCondition(source: string): CompiledCondition {
  const env = celEnvironment();
  const checked = env.check(source);
  if (!checked.valid) {
    return { ok: false, message: `CEL condition does not compile: ${firstLine(checked.error?.message)}` };
  }
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    return { ok: false, message: `CEL condition must be a bool, not ${checked.type}` };
  }
  const parsed = env.parse(source);
  return { ok: true, program: (context) => parsed(context) };
}

function firstLine(message: string | undefined): string {
  return (message ?? 'unknown error').split('\n')[0] ?? 'unknown error';
}
