export type { ErrorCode, GatehouseErrorOptions } from './gatehouse-error.js';
export { ERROR_CODES, GatehouseError, isGatehouseError, toGatehouseError } from './gatehouse-error.js';
