/**
 * The one error type of Gatehouse. Every public failure carries a stable `code` that callers can switch on;
 * only the edges (HTTP, CLI) turn it into a wire error. Messages are lowercase, name the offending input in
 * backticks, and never carry secrets.
 */
export const ERROR_CODES = {
  // request shape
  invalid_request: { status: 400, exit: 2, title: 'Invalid request' },
  validation_failed: { status: 400, exit: 2, title: 'Validation failed' },
  body_too_large: { status: 413, exit: 2, title: 'Request body too large' },
  unsupported_media_type: { status: 415, exit: 2, title: 'Unsupported media type' },
  route_not_found: { status: 404, exit: 3, title: 'Route not found' },
  // admin authentication and authorization
  unauthorized: { status: 401, exit: 5, title: 'Authentication required' },
  forbidden: { status: 403, exit: 5, title: 'Forbidden' },
  csrf_token_invalid: { status: 403, exit: 5, title: 'CSRF token missing or wrong' },
  // registry lookups
  team_not_found: { status: 404, exit: 3, title: 'Team not found' },
  user_not_found: { status: 404, exit: 3, title: 'User not found' },
  agent_not_found: { status: 404, exit: 3, title: 'Agent not found' },
  manifest_version_not_found: { status: 404, exit: 3, title: 'Manifest version not found' },
  admin_token_not_found: { status: 404, exit: 3, title: 'Admin token not found' },
  agent_key_not_found: { status: 404, exit: 3, title: 'Agent key not found' },
  // registry conflicts and rules
  team_exists: { status: 409, exit: 4, title: 'Team already exists' },
  user_exists: { status: 409, exit: 4, title: 'User already exists' },
  agent_exists: { status: 409, exit: 4, title: 'Agent already exists' },
  agent_key_exists: { status: 409, exit: 4, title: 'Agent key already exists' },
  user_inactive: { status: 409, exit: 4, title: 'User is inactive' },
  invalid_state_transition: { status: 409, exit: 4, title: 'Invalid state transition' },
  manifest_missing: { status: 409, exit: 4, title: 'Agent has no manifest' },
  reviewer_required: { status: 400, exit: 2, title: 'Reviewer required' },
  reviewer_is_sponsor: { status: 403, exit: 5, title: 'Reviewer may not be the sponsor' },
  invalid_public_key: { status: 400, exit: 2, title: 'Invalid public key' },
  // OAuth and tokens
  unsupported_grant_type: { status: 400, exit: 2, title: 'Unsupported grant type' },
  invalid_client_assertion: { status: 401, exit: 5, title: 'Invalid client assertion' },
  assertion_replayed: { status: 401, exit: 5, title: 'Client assertion replayed' },
  agent_inactive: { status: 401, exit: 5, title: 'Agent is not active' },
  invalid_token: { status: 401, exit: 5, title: 'Invalid access token' },
  capability_invalid: { status: 403, exit: 5, title: 'Invalid capability' },
  capability_replayed: { status: 403, exit: 5, title: 'Capability already redeemed' },
  // delegation (token exchange, RFC 8693)
  invalid_scope: { status: 400, exit: 2, title: 'Scope wider than the parent grant' },
  invalid_target: { status: 400, exit: 2, title: 'Audience not allowed' },
  delegation_forbidden: { status: 403, exit: 5, title: 'Delegation not allowed' },
  delegation_too_deep: { status: 403, exit: 5, title: 'Delegation chain too deep' },
  insufficient_scope: { status: 403, exit: 5, title: 'Outside the token scope' },
  idp_unavailable: { status: 503, exit: 69, title: 'Identity provider unavailable' },
  // policy
  policy_invalid: { status: 400, exit: 2, title: 'Policy bundle does not compile' },
  policy_denied: { status: 403, exit: 5, title: 'Denied by policy' },
  policy_eval_error: { status: 403, exit: 5, title: 'Policy evaluation failed; call denied' },
  policy_version_not_found: { status: 404, exit: 3, title: 'Policy version not found' },
  policy_lint_failed: { status: 409, exit: 8, title: 'Toxic combinations found' },
  session_not_found: { status: 404, exit: 3, title: 'Session not found' },
  session_conflict: { status: 409, exit: 4, title: 'Session busy' },
  policy_test_failed: { status: 409, exit: 7, title: 'Policy test cases failed' },
  // MCP gateway
  tool_not_found: { status: 404, exit: 3, title: 'Tool not found' },
  invalid_arguments: { status: 400, exit: 2, title: 'Arguments do not match the tool schema' },
  approval_required: { status: 403, exit: 5, title: 'Human approval required' },
  approval_pending: { status: 409, exit: 4, title: 'Approval still pending' },
  approval_denied: { status: 403, exit: 5, title: 'Approval denied' },
  approval_expired: { status: 409, exit: 4, title: 'Approval request expired' },
  approval_not_found: { status: 404, exit: 3, title: 'Approval request not found' },
  approval_resolved: { status: 409, exit: 4, title: 'Approval request already resolved' },
  approver_is_sponsor: { status: 403, exit: 5, title: 'Approver may not be the sponsor' },
  approver_is_user: { status: 403, exit: 5, title: 'Approver may not be the session user' },
  approver_user_required: { status: 403, exit: 5, title: 'Approver must be a person' },
  session_terminated: { status: 403, exit: 5, title: 'Session ended by policy' },
  upstream_unavailable: { status: 502, exit: 69, title: 'Upstream unavailable' },
  upstream_timeout: { status: 504, exit: 69, title: 'Upstream timed out' },
  upstream_error: { status: 502, exit: 69, title: 'Upstream failed' },
  call_cancelled: { status: 499, exit: 1, title: 'Call cancelled' },
  mcp_session_not_found: { status: 404, exit: 3, title: 'MCP session not found' },
  // tool pinning
  tool_held: { status: 403, exit: 5, title: 'Tool held for review' },
  tool_not_held: { status: 409, exit: 4, title: 'Tool is not held for the agent' },
  tool_hash_mismatch: { status: 409, exit: 4, title: 'Tool changed again since it was looked at' },
  // egress (forward proxy and credentialed routes)
  proxy_auth_required: { status: 407, exit: 5, title: 'Proxy authentication required' },
  egress_target_invalid: { status: 400, exit: 2, title: 'Invalid egress target' },
  egress_host_not_in_manifest: { status: 403, exit: 5, title: 'Host not in the agent manifest' },
  egress_address_forbidden: { status: 403, exit: 5, title: 'Destination address not allowed' },
  egress_route_not_found: { status: 404, exit: 3, title: 'Egress route not found' },
  egress_unreachable: { status: 502, exit: 69, title: 'Egress destination unreachable' },
  egress_timeout: { status: 504, exit: 69, title: 'Egress destination timed out' },
  // LLM gateway
  provider_not_found: { status: 404, exit: 3, title: 'LLM provider not found' },
  provider_key_refused: { status: 401, exit: 5, title: 'Provider key refused' },
  llm_provider_not_in_manifest: { status: 403, exit: 5, title: 'LLM provider not in the agent manifest' },
  budget_exceeded: { status: 429, exit: 5, title: 'Token budget exceeded' },
  provider_unavailable: { status: 502, exit: 69, title: 'LLM provider unavailable' },
  provider_timeout: { status: 504, exit: 69, title: 'LLM provider timed out' },
  provider_stream_interrupted: { status: 502, exit: 69, title: 'LLM provider stream interrupted' },
  // vault
  secret_not_found: { status: 404, exit: 3, title: 'Secret not found' },
  secret_upstream_mismatch: { status: 409, exit: 4, title: 'Secret bound to another upstream' },
  secret_unusable: { status: 409, exit: 4, title: 'Secret cannot be injected there' },
  // discovery
  discovery_candidate_not_found: { status: 404, exit: 3, title: 'Discovery candidate not found' },
  discovery_path_not_found: { status: 404, exit: 3, title: 'Path to scan not found' },
  // operations
  invalid_config: { status: 500, exit: 78, title: 'Invalid configuration' },
  master_key_mismatch: { status: 500, exit: 78, title: 'Master key does not match stored keys' },
  store_unavailable: { status: 503, exit: 69, title: 'Store unavailable' },
  audit_unavailable: { status: 503, exit: 69, title: 'Audit log unavailable' },
  audit_chain_broken: { status: 409, exit: 6, title: 'Stored audit chain does not verify' },
  audit_verification_failed: { status: 409, exit: 6, title: 'Audit log verification failed' },
  invalid_audit_file: { status: 400, exit: 2, title: 'Invalid audit file' },
  internal_error: { status: 500, exit: 1, title: 'Internal error' },
} as const satisfies Record<string, { status: number; exit: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface GatehouseErrorOptions {
  /** Extra, non-secret facts for the client (e.g. which fields failed). */
  details?: Record<string, unknown>;
  cause?: unknown;
  /** False for internal failures whose message must not reach the client. */
  expose?: boolean;
}

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly exitCode: number;
  readonly details: Record<string, unknown> | undefined;
  readonly expose: boolean;

  constructor(code: ErrorCode, message: string, options: GatehouseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatehouseError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.exitCode = ERROR_CODES[code].exit;
    this.details = options.details;
    this.expose = options.expose ?? this.status < 500;
  }
}

export function isGatehouseError(value: unknown): value is GatehouseError {
  return value instanceof GatehouseError;
}

/** Wraps anything thrown into a GatehouseError, hiding the message of unknown failures. */
export function toGatehouseError(value: unknown): GatehouseError {
  if (isGatehouseError(value)) return value;
  return new GatehouseError('internal_error', 'internal error', { cause: value, expose: false });
}
