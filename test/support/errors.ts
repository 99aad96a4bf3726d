import { GatehouseError } from '../../src/errors/index.js';

const codeOfError = (error: unknown): string =>
  error instanceof GatehouseError ? error.code : `not-a-gatehouse-error: ${String(error)}`;

/** Awaits `promise` and returns the code of the GatehouseError it rejects with; undefined if it resolves. */
export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return codeOfError(error);
  }
  return undefined;
}

/** Calls `fn` and returns the code of the GatehouseError it throws; undefined if it returns. */
export function codeOfSync(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return codeOfError(error);
  }
  return undefined;
}
