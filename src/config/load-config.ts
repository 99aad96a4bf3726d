import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { GatehouseError } from '../errors/index.js';
import { type GatehouseConfig, GatehouseConfigSchema } from './config-schema.js';

export interface LoadConfigOptions {
  /** A gatehouse.yaml path; when absent, GATEHOUSE_CONFIG, then ./gatehouse.yaml if it exists. */
  configFile?: string;
  /** Overrides the data directory (the CLI's --data-dir). */
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export const DEFAULT_DATA_DIR = '~/.gatehouse';

/**
 * Reads gatehouse.yaml, applies environment overrides, and validates the result. A bad config throws
 * `invalid_config` naming the field and the problem.
 */
export function loadConfig(options: LoadConfigOptions = {}): GatehouseConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicitFile = options.configFile ?? env.GATEHOUSE_CONFIG;
  const file = explicitFile ? resolve(cwd, explicitFile) : resolve(cwd, 'gatehouse.yaml');
  const raw = readConfigFile(file, explicitFile !== undefined);
  const merged = applyEnvironment(raw, env);
  if (options.dataDir !== undefined) merged.dataDir = options.dataDir;
  merged.dataDir ??= DEFAULT_DATA_DIR;
  return parseConfig(merged, file, cwd);
}

/** Validates a configuration object (already merged) and resolves the data directory. */
export function parseConfig(input: Record<string, unknown>, source = 'configuration', cwd = process.cwd()) {
  const result = GatehouseConfigSchema.safeParse(input);
  if (!result.success) {
    throw new GatehouseError(
      'invalid_config',
      `invalid configuration in \`${source}\`: ${describeIssues(result.error)}`,
      {
        details: {
          issues: result.error.issues.map((issue) => ({
            path: issue.path.join('.'),
            message: issue.message,
          })),
        },
      },
    );
  }
  const config = result.data;
  config.dataDir = resolve(cwd, expandHome(config.dataDir));
  return config;
}

function readConfigFile(file: string, required: boolean): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    if (!required && (cause as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new GatehouseError('invalid_config', `cannot read config file \`${file}\``, { cause });
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new GatehouseError(
      'invalid_config',
      `config file \`${file}\` is not valid YAML: ${document.errors[0]?.message}`,
    );
  }
  const value = document.toJS() ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new GatehouseError(
      'invalid_config',
      `config file \`${file}\` must hold a mapping at the top level`,
    );
  }
  return value as Record<string, unknown>;
}

/** GATEHOUSE_* variables override the file, so containers and CI need no file at all. */
function applyEnvironment(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const config: Record<string, unknown> = { ...raw };
  const section = (name: string): Record<string, unknown> => {
    const existing = config[name];
    const copy = typeof existing === 'object' && existing !== null ? { ...(existing as object) } : {};
    config[name] = copy;
    return copy as Record<string, unknown>;
  };
  if (env.GATEHOUSE_DATA_DIR) config.dataDir = env.GATEHOUSE_DATA_DIR;
  if (env.GATEHOUSE_MASTER_KEY) config.masterKey = env.GATEHOUSE_MASTER_KEY;
  if (env.GATEHOUSE_HOST) section('server').host = env.GATEHOUSE_HOST;
  if (env.GATEHOUSE_PORT) section('server').port = Number(env.GATEHOUSE_PORT);
  if (env.GATEHOUSE_PUBLIC_URL) section('server').publicUrl = env.GATEHOUSE_PUBLIC_URL;
  if (env.GATEHOUSE_POLICY_PATH) section('policy').path = env.GATEHOUSE_POLICY_PATH;
  if (env.GATEHOUSE_STORE_URL) {
    const store: Record<string, unknown> = { driver: 'postgres', url: env.GATEHOUSE_STORE_URL };
    if (env.GATEHOUSE_STORE_SCHEMA) store.schema = env.GATEHOUSE_STORE_SCHEMA;
    config.store = store;
  }
  return config;
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `\`${issue.path.join('.') || '(root)'}\`: ${issue.message}`).join('; ');
}
