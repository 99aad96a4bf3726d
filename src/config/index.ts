export type { GatehouseConfig, GatehouseConfigInput, UpstreamConfig } from './config-schema.js';
export { GatehouseConfigSchema } from './config-schema.js';
export { DEFAULT_DATA_DIR, type LoadConfigOptions, loadConfig, parseConfig } from './load-config.js';
