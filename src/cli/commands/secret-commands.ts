import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { GatehouseError } from '../../errors/index.js';
import { MAX_SECRET_BYTES } from '../../vault/index.js';
import { type CommandContext, createCommandContext } from '../context.js';
import { type CliIo, renderTable } from '../output.js';

interface SecretView {
  name: string;
  upstream: string | null;
  description: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
  usedBy: string[];
}

interface UnresolvedReference {
  upstream: string;
  secret: string;
  code: 'secret_not_found' | 'secret_upstream_mismatch';
  boundTo?: string;
}

interface ValueOptions {
  upstream?: string;
  description?: string;
  fromEnv?: string;
  fromFile?: string;
}

/**
 * `gatehouse secrets …`: the vault. Values are read from stdin, an environment variable or a file, never from
 * an argument (argv is visible to every user through `ps`), and never printed back.
 */
export function registerSecretCommands(program: Command, io: CliIo) {
  const secrets = program
    .command('secrets')
    .description('the vault: upstream credentials, stored encrypted and never shown again');

  const valueCommand = (name: 'set' | 'rotate', description: string) =>
    secrets
      .command(name)
      .description(description)
      .argument('<name>', 'secret name (lowercase letters, digits, `.`, `_`, `-`)')
      .option('--upstream <name>', 'bind the secret to this upstream: no other upstream may receive it')
      .option('--description <text>', 'what the secret is for')
      .option('--from-env <var>', 'read the value from this environment variable instead of stdin')
      .option('--from-file <file>', 'read the value from this file instead of stdin')
      .action(async (secretName: string, options: ValueOptions, command: Command) => {
        const ctx = createCommandContext(io, command);
        const value = await readSecretValue(io, options);
        warnIfCleartext(ctx);
        const body = {
          value,
          ...(options.upstream === undefined ? {} : { upstream: options.upstream }),
          ...(options.description === undefined ? {} : { description: options.description }),
        };
        const url = `/admin/v1/secrets/${encodeURIComponent(secretName)}`;
        const result = await ctx.withClient((client) =>
          name === 'set'
            ? ctx.call<{ secret: SecretView }>(client, 'PUT', url, body)
            : ctx.call<{ secret: SecretView }>(client, 'POST', `${url}/rotate`, body),
        );
        const { secret } = result;
        ctx.print(result, () => {
          const what = secret.version === 1 ? 'created' : `rotated to version ${secret.version}`;
          return `secret \`${secret.name}\` ${what}${secret.upstream ? `, bound to upstream \`${secret.upstream}\`` : ''}\n`;
        });
      });

  valueCommand(
    'set',
    'store a secret read from stdin (or --from-env / --from-file); an existing name is rotated',
  );
  valueCommand('rotate', 'replace the value of an existing secret (refuses an unknown name)');

  secrets
    .command('list')
    .description('secrets with version, binding and the upstreams using them; never their values')
    .action(async (_options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ secrets: SecretView[]; unresolved: UnresolvedReference[] }>(
          client,
          'GET',
          '/admin/v1/secrets',
        ),
      );
      ctx.print(result, () => {
        const table =
          result.secrets.length === 0
            ? 'no secrets\n'
            : renderTable(result.secrets, [
                ['NAME', (s) => s.name],
                ['VERSION', (s) => s.version],
                ['UPSTREAM', (s) => s.upstream],
                ['USED BY', (s) => s.usedBy],
                ['UPDATED', (s) => s.updatedAt],
                ['BY', (s) => s.updatedBy],
                ['DESCRIPTION', (s) => s.description],
              ]);
        const problems = result.unresolved.map((ref) =>
          ref.code === 'secret_not_found'
            ? `warning: upstream \`${ref.upstream}\` references secret \`${ref.secret}\`, which the vault does not hold\n`
            : `warning: upstream \`${ref.upstream}\` references secret \`${ref.secret}\`, which is bound to \`${ref.boundTo}\`\n`,
        );
        return `${table}${problems.join('')}`;
      });
    });

  secrets
    .command('delete')
    .description('remove a secret; upstreams referencing it stop getting it')
    .argument('<name>', 'secret name')
    .action(async (secretName: string, _options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ deleted: SecretView }>(
          client,
          'DELETE',
          `/admin/v1/secrets/${encodeURIComponent(secretName)}`,
        ),
      );
      ctx.print(result, () => `secret \`${result.deleted.name}\` deleted\n`);
    });
}

/** The value from exactly one source. One final line break is dropped from stdin and files (`echo` adds it). */
async function readSecretValue(io: CliIo, options: ValueOptions): Promise<string> {
  if (options.fromEnv !== undefined && options.fromFile !== undefined) {
    throw new GatehouseError('invalid_request', 'give --from-env or --from-file, not both');
  }
  if (options.fromEnv !== undefined) {
    const value = io.env[options.fromEnv];
    if (value === undefined || value === '') {
      throw new GatehouseError(
        'invalid_request',
        `environment variable \`${options.fromEnv}\` is not set or empty`,
      );
    }
    return value;
  }
  if (options.fromFile !== undefined) {
    const file = path.resolve(io.cwd, options.fromFile);
    try {
      // Refuse a huge file before reading it; the vault's own limit gives the precise message otherwise.
      if ((await stat(file)).size > MAX_SECRET_BYTES + 2) {
        throw new GatehouseError(
          'validation_failed',
          `\`${file}\` is larger than a secret may be (${MAX_SECRET_BYTES} bytes)`,
        );
      }
      return withoutFinalLineBreak(await readFile(file, 'utf8'));
    } catch (error) {
      if (error instanceof GatehouseError) throw error;
      throw new GatehouseError('invalid_request', `cannot read \`${file}\``);
    }
  }
  if (!io.stdin) {
    throw new GatehouseError('invalid_request', 'no standard input: use --from-env VAR or --from-file FILE');
  }
  return withoutFinalLineBreak(await io.stdin());
}

function withoutFinalLineBreak(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/** A value sent to a remote server over plain HTTP crosses the network readable. */
function warnIfCleartext(ctx: CommandContext): void {
  const server = ctx.globals.server ?? ctx.io.env.GATEHOUSE_SERVER;
  if (!server) return;
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return;
  }
  const loopback = ['localhost', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
  if (url.protocol === 'http:' && !loopback) {
    ctx.io.stderr(`warning: sending a secret to ${url.origin} over plain HTTP; use https\n`);
  }
}
