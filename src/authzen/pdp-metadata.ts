import type { PdpMetadata } from './types.js';

export const ACCESS_EVALUATION_PATH = '/access/v1/evaluation';
export const ACCESS_EVALUATIONS_PATH = '/access/v1/evaluations';
export const PDP_METADATA_PATH = '/.well-known/authzen-configuration';

/**
 * The PDP metadata for a Gatehouse reachable at `issuer` (its public base URL, no trailing slash). Only the
 * endpoints Gatehouse serves are named: the spec reads an absent endpoint as "not supported" (no search yet).
 * @example pdpMetadata('https://gatehouse.example.com').access_evaluation_endpoint
 *   // 'https://gatehouse.example.com/access/v1/evaluation'
 */
export function pdpMetadata(issuer: string): PdpMetadata {
  const base = issuer.replace(/\/+$/, '');
  return {
    policy_decision_point: base,
    access_evaluation_endpoint: `${base}${ACCESS_EVALUATION_PATH}`,
    access_evaluations_endpoint: `${base}${ACCESS_EVALUATIONS_PATH}`,
  };
}
