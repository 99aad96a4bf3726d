export { actOfActors, actorsOfAct, agentDepth, chainOf } from './act-chain.js';
export { DELEGATED_TOKEN_HEADER, exchangeForAgentHop } from './agent-hop.js';
export { attenuateGrant, type Grant, type GrantRequest } from './attenuate.js';
export {
  type AgentTokenCaller,
  authenticateAgentToken,
  sameDelegation,
} from './authenticate-agent-token.js';
export { assertChainHolds, type BrokenLink, brokenLinkError, findBrokenLink } from './check-chain.js';
export { type Delegation, readDelegation, type TokenUser } from './delegation-claims.js';
export {
  exchangeToken,
  TOKEN_EXCHANGE_GRANT,
  TOKEN_TYPES,
  type TokenExchangeDeps,
  type TokenExchangeParams,
  type TokenExchangeResponse,
} from './exchange-token.js';
export {
  type DelegatedToken,
  type DelegationDeps,
  issueDelegatedToken,
  type ParentGrant,
} from './issue-delegated-token.js';
export { type RevokeTokenDeps, revokeToken } from './revoke-token.js';
export { buildSessionGraph, type GraphEdge, type GraphNode, type SessionGraph } from './session-graph.js';
export { narrowToolScope, parseToolScope, patternCovers, toolInScope } from './tool-scope.js';
