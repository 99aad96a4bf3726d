export {
  authorizeEgress,
  EGRESS_TOOL,
  type EgressCall,
  type EgressGrant,
  egressArgs,
  permits,
  refusalOfDecision,
} from './authorize-egress.js';
export { registerEgressRoutes } from './credentialed-routes.js';
export {
  type AddressClass,
  type AddressPolicy,
  classifyAddress,
  type HostLookup,
  resolveDestination,
} from './destination-address.js';
export { type EgressTarget, parseAbsoluteTarget, parseConnectTarget } from './egress-target.js';
export {
  type EgressProxy,
  type EgressProxyOptions,
  type EgressRefusalBody,
  startEgressProxy,
} from './forward-proxy.js';
export { manifestAdmits } from './manifest-hosts.js';
export { type ProxyCredentials, readProxyCredentials } from './proxy-credentials.js';
