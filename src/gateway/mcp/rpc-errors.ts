import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { type GatehouseError, isGatehouseError } from '../../errors/index.js';

/**
 * JSON-RPC error codes Gatehouse answers MCP requests with. The MCP spec leaves -32000..-32099 to servers; the
 * stable, switchable value is `error.data.code` (the Gatehouse error code), documented in docs/mcp.md.
 */
export const RPC_ERROR_CODES: Record<string, number> = {
  policy_denied: -32010,
  policy_eval_error: -32010,
  approval_required: -32011,
  approval_pending: -32011,
  approval_denied: -32014,
  approval_expired: -32015,
  session_terminated: -32012,
  tool_held: -32013,
  tool_not_found: ErrorCode.InvalidParams,
  invalid_arguments: ErrorCode.InvalidParams,
  validation_failed: ErrorCode.InvalidParams,
  upstream_unavailable: -32020,
  upstream_timeout: -32021,
  call_cancelled: -32022,
  upstream_error: -32023,
  capability_replayed: -32024,
  agent_inactive: -32030,
  session_conflict: -32031,
  store_unavailable: -32040,
  audit_unavailable: -32040,
};

/**
 * A JSON-RPC error as the SDK server sends it (`code`, `message`, `data`). Unlike the SDK's McpError it does not
 * prefix the message with "MCP error <code>:", which the agent's own SDK adds again on receipt.
 */
export class GatewayRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'GatewayRpcError';
  }
}

/** A JSON-RPC error carrying the Gatehouse code and any safe details; internal errors say nothing more. */
export function toRpcError(error: unknown): Error {
  if (error instanceof McpError || error instanceof GatewayRpcError) return error;
  if (isGatehouseError(error) && error.expose) return rpcErrorOf(error);
  return new GatewayRpcError(ErrorCode.InternalError, 'internal error', { code: 'internal_error' });
}

function rpcErrorOf(error: GatehouseError): GatewayRpcError {
  return new GatewayRpcError(RPC_ERROR_CODES[error.code] ?? ErrorCode.InternalError, error.message, {
    code: error.code,
    ...(error.details ?? {}),
  });
}
