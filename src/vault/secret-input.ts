import { GatehouseError } from '../errors/index.js';

/** The same pattern as the configuration's secret references (`secretEnv`, `secretHeaders`). */
export const SECRET_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,99}$/;
/** The same pattern as configured upstream names. */
export const UPSTREAM_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,39}$/;
/**
 * Largest value, in UTF-8 bytes. API tokens and PEM keys fit many times over, and a value this size still fits
 * the default request body limit (64 KiB) once JSON-encoded.
 */
export const MAX_SECRET_BYTES = 32 * 1024;
export const MAX_SECRET_DESCRIPTION = 1000;

export function checkSecretName(name: string): string {
  if (!SECRET_NAME_PATTERN.test(name)) {
    throw new GatehouseError(
      'validation_failed',
      `\`${name}\` is not a secret name: 1-100 lowercase letters, digits, \`.\`, \`_\`, \`-\`, starting with a letter or digit`,
    );
  }
  return name;
}

/** Checks a value's shape; messages name the secret and sizes, never the value. */
export function checkSecretValue(name: string, value: string): void {
  if (value.length === 0) {
    throw new GatehouseError('validation_failed', `the value of secret \`${name}\` is empty`);
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_SECRET_BYTES) {
    throw new GatehouseError(
      'validation_failed',
      `the value of secret \`${name}\` is ${bytes} bytes; at most ${MAX_SECRET_BYTES} are allowed`,
    );
  }
  // A NUL cannot travel in a header or an environment variable, and Node's error for it would quote the value.
  if (value.includes('\u0000')) {
    throw new GatehouseError('validation_failed', `the value of secret \`${name}\` contains a NUL character`);
  }
}

export function checkUpstreamName(upstream: string | null): string | null {
  if (upstream !== null && !UPSTREAM_NAME_PATTERN.test(upstream)) {
    throw new GatehouseError(
      'validation_failed',
      `\`${upstream}\` is not an upstream name: lowercase letters, digits, \`_\`, \`-\`, starting with a letter`,
    );
  }
  return upstream;
}

export function checkSecretDescription(description: string | null): string | null {
  if (description !== null && description.length > MAX_SECRET_DESCRIPTION) {
    throw new GatehouseError(
      'validation_failed',
      `a secret description has at most ${MAX_SECRET_DESCRIPTION} characters`,
    );
  }
  return description;
}
