export { bridgeStdioToGateway } from './stdio-bridge.js';
export { type AgentKey, createTokenSource, readAgentKey, type TokenSource } from './token-source.js';
