import { ERROR_CODES, type GatehouseError } from '../../errors/index.js';
import type { ProviderKind } from './operations.js';

/** An error as the agent's SDK expects it from its provider, so it raises a proper API error. */
export interface WireError {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
};

const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  504: 'timeout_error',
};

/**
 * A Gatehouse error in the provider's own error format: OpenAI's `{error: {message, type, param, code}}` or
 * Anthropic's `{type: "error", error: {type, message}}`, both carrying Gatehouse's `code` (and the deciding
 * rules for a policy refusal). A spent budget says not to retry (`x-should-retry: false`), which both SDKs obey.
 */
export function toWireError(kind: ProviderKind, error: GatehouseError): WireError {
  const message = error.expose ? error.message : ERROR_CODES[error.code].title.toLowerCase();
  const ruleIds = error.details?.ruleIds;
  const extra = Array.isArray(ruleIds) ? { rule_ids: ruleIds } : {};
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (error.code === 'budget_exceeded') headers['x-should-retry'] = 'false';
  if (kind === 'anthropic') {
    const type = ANTHROPIC_TYPES[error.status] ?? 'api_error';
    return {
      status: error.status,
      headers,
      body: { type: 'error', error: { type, message, code: error.code, ...extra } },
    };
  }
  const type =
    error.code === 'budget_exceeded'
      ? 'insufficient_quota'
      : (OPENAI_TYPES[error.status] ?? (error.status >= 500 ? 'server_error' : 'invalid_request_error'));
  return {
    status: error.status,
    headers,
    body: { error: { message, type, param: null, code: error.code, ...extra } },
  };
}

/**
 * The server-sent event that ends a stream the provider broke off: an `error` event both SDKs raise as an API
 * error, so the agent never mistakes a truncated answer for a whole one.
 */
export function streamErrorEvent(kind: ProviderKind, error: GatehouseError): string {
  return `event: error\ndata: ${JSON.stringify(toWireError(kind, error).body)}\n\n`;
}
