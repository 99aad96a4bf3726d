import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/index.js';
import {
  type AdminClient,
  createDirectAdminClient,
  createHttpAdminClient,
  ensureOk,
} from './admin-client.js';
import type { CliIo } from './output.js';

export interface GlobalOptions {
  dataDir?: string;
  config?: string;
  server?: string;
  token?: string;
  json?: boolean;
}

/** Everything a command needs: where it writes, how it reaches Gatehouse, and whether to speak JSON. */
export interface CommandContext {
  io: CliIo;
  json: boolean;
  globals: GlobalOptions;
  /** Opens the client, runs `fn`, closes it. */
  withClient<T>(fn: (client: AdminClient) => Promise<T>): Promise<T>;
  /** A request that must succeed; returns the parsed body. */
  call<T = Record<string, unknown>>(
    client: AdminClient,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<T>;
  /** Prints JSON in --json mode, otherwise the human rendering. */
  print(value: unknown, human: () => string): void;
}

export function createCommandContext(io: CliIo, command: Command): CommandContext {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const server = globals.server ?? io.env.GATEHOUSE_SERVER;
  const token = globals.token ?? io.env.GATEHOUSE_TOKEN;
  const json = globals.json ?? false;
  return {
    io,
    json,
    globals,
    async withClient(fn) {
      const client = server
        ? createHttpAdminClient(server, token)
        : await createDirectAdminClient(
            loadConfig({ configFile: globals.config, dataDir: globals.dataDir, env: io.env, cwd: io.cwd }),
          );
      try {
        return await fn(client);
      } finally {
        await client.close();
      }
    },
    async call(client, method, path, body) {
      return ensureOk(await client.request(method, path, body)).body as never;
    },
    print(value, human) {
      io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : human());
    },
  };
}

/** `--label k=v` accumulator for commander. */
export function collectLabel(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const index = value.indexOf('=');
  if (index <= 0) throw new InvalidArgumentError(`label \`${value}\` must be key=value`);
  return { ...previous, [value.slice(0, index)]: value.slice(index + 1) };
}

export function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
