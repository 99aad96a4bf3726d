import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { AuditVerifyReport } from '../../audit/index.js';
import { readAuditExport, verifyAuditTrail } from '../../audit/index.js';
import { GatehouseError } from '../../errors/index.js';
import { ADMIN_ROLES } from '../../identity/types.js';
import { ensureOk } from '../admin-client.js';
import { createCommandContext } from '../context.js';
import { type CliIo, renderRecord, renderTable } from '../output.js';

export function registerKeyCommands(program: Command, io: CliIo) {
  const keys = program.command('keys').description("Gatehouse's own signing keys");
  keys
    .command('rotate')
    .description('generate a new signing key; the old one still verifies until tokens it signed expire')
    .action(async (_options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ kid: string; retiredKid: string }>(client, 'POST', '/admin/v1/keys/rotate'),
      );
      ctx.print(result, () => `active signing key is now ${result.kid}; ${result.retiredKid} retired\n`);
    });
  keys
    .command('list')
    .description('list signing keys')
    .action(async (_options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ keys: { kid: string; status: string; createdAt: string; verifyUntil: string | null }[] }>(
          client,
          'GET',
          '/admin/v1/keys',
        ),
      );
      ctx.print(result, () =>
        renderTable(result.keys, [
          ['KID', (k) => k.kid],
          ['STATUS', (k) => k.status],
          ['CREATED', (k) => k.createdAt],
          ['VERIFY UNTIL', (k) => k.verifyUntil],
        ]),
      );
    });
  keys
    .command('jwks')
    .description('print the public JWKS (what /.well-known/jwks.json serves)')
    .option('--out <file>', 'write to a file')
    .option('--audit', 'every key ever used, retired ones too: for verifying old audit exports')
    .action(async (options: { out?: string; audit?: boolean }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const path = options.audit ? '/admin/v1/audit/jwks' : '/.well-known/jwks.json';
      const jwks = await ctx.withClient(async (client) => (await ctx.call(client, 'GET', path)) as object);
      const text = `${JSON.stringify(jwks, null, 2)}\n`;
      if (options.out) writeFileSync(resolve(io.cwd, options.out), text);
      else io.stdout(text);
    });
}

function renderVerifyReport(report: AuditVerifyReport): string {
  const lines = report.ok
    ? [`audit log verified: ${report.entries} entries, last seq ${report.lastSeq}`]
    : [
        `AUDIT LOG VERIFICATION FAILED at seq ${report.firstBadSeq ?? '?'}: ${report.problem?.code} — ${report.problem?.message}`,
      ];
  lines.push(
    `checkpoints: ${report.checkpoints.verified} verified, ${report.checkpoints.unverifiable} unverifiable`,
  );
  return `${lines.join('\n')}\n`;
}

async function loadJwks(source: string, cwd: string): Promise<{ keys: object[] }> {
  const text = /^https?:\/\//.test(source)
    ? await fetch(source, { signal: AbortSignal.timeout(10_000) }).then((response) => response.text())
    : await readFile(resolve(cwd, source), 'utf8');
  try {
    const jwks = JSON.parse(text) as { keys?: unknown };
    if (!Array.isArray(jwks.keys)) throw new Error('no keys');
    return jwks as { keys: object[] };
  } catch (cause) {
    throw new GatehouseError('invalid_request', `\`${source}\` is not a JWKS`, { cause });
  }
}

export function registerAuditCommands(program: Command, io: CliIo) {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description(
      'verify the chain in the store, or an exported file offline (--file, checked with only the public JWKS)',
    )
    .option('--file <file>', 'an export written by `audit export`')
    .option(
      '--jwks <fileOrUrl>',
      'public JWKS to check checkpoint signatures (default: the server or store keys)',
    )
    .action(async (options: { file?: string; jwks?: string }, command: Command) => {
      const ctx = createCommandContext(io, command);
      let report: AuditVerifyReport;
      if (options.file) {
        const exported = await readAuditExport(resolve(io.cwd, options.file));
        const jwks = options.jwks
          ? await loadJwks(options.jwks, io.cwd)
          : await ctx.withClient(
              async (client) =>
                (await ctx.call(client, 'GET', '/.well-known/jwks.json')) as { keys: object[] },
            );
        report = await verifyAuditTrail({ ...exported, jwks: jwks as never, requireCheckpointAtEnd: true });
      } else {
        report = await ctx.withClient((client) =>
          ctx.call<AuditVerifyReport>(client, 'POST', '/admin/v1/audit/verify'),
        );
      }
      ctx.print(report, () => renderVerifyReport(report));
      if (!report.ok) {
        throw new GatehouseError(
          'audit_verification_failed',
          `audit log verification failed at seq ${report.firstBadSeq ?? '?'} (${report.problem?.code ?? 'unknown'})`,
        );
      }
    });
  audit
    .command('export')
    .description('write entries and signed checkpoints as JSON lines')
    .requiredOption('--out <file>', 'output file')
    .action(async (options: { out: string }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const text = await ctx.withClient(
        async (client) => ensureOk(await client.request('GET', '/admin/v1/audit/export')).text,
      );
      writeFileSync(resolve(io.cwd, options.out), text);
      const lines = text.split('\n').filter(Boolean);
      const entries = lines.filter((line) => line.includes('"type":"entry"')).length;
      ctx.print(
        { out: options.out, entries, checkpoints: lines.length - entries },
        () => `exported ${entries} entries and ${lines.length - entries} checkpoints to ${options.out}\n`,
      );
    });
  audit
    .command('list')
    .description('print audit entries')
    .option('--after <seq>', 'entries after this seq', '0')
    .option('--limit <n>', 'how many (max 1000)', '50')
    .action(async (options: { after: string; limit: string }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{
          entries: { seq: number; time: string; actor: string; action: string; target: string | null }[];
        }>(
          client,
          'GET',
          `/admin/v1/audit/entries?after=${encodeURIComponent(options.after)}&limit=${encodeURIComponent(options.limit)}`,
        ),
      );
      ctx.print(result, () =>
        renderTable(result.entries, [
          ['SEQ', (e) => e.seq],
          ['TIME', (e) => e.time],
          ['ACTOR', (e) => e.actor],
          ['ACTION', (e) => e.action],
          ['TARGET', (e) => e.target],
        ]),
      );
    });
}

export function registerAdminCommands(program: Command, io: CliIo) {
  const admin = program.command('admin').description('admin API access');
  const token = admin.command('token').description('bearer tokens for the admin API');
  token
    .command('create')
    .description(`create a token; roles: ${ADMIN_ROLES.join(', ')}. The secret is shown once.`)
    .requiredOption('--role <role>', 'admin | reviewer | approver | auditor')
    .option('--name <name>', 'what the token is for')
    .option('--user <email>', 'bind to a person (reviews record them as the reviewer)')
    .action(async (options: { role: string; name?: string; user?: string }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ token: { id: string; role: string }; secret: string }>(
          client,
          'POST',
          '/admin/v1/admin-tokens',
          options,
        ),
      );
      ctx.print(result, () => `created ${result.token.role} token ${result.token.id}\n${result.secret}\n`);
    });
  token
    .command('list')
    .description('list admin tokens (never their secrets)')
    .action(async (_options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{
          tokens: {
            id: string;
            name: string;
            role: string;
            userId: string | null;
            revokedAt: string | null;
            lastUsedAt: string | null;
          }[];
        }>(client, 'GET', '/admin/v1/admin-tokens'),
      );
      ctx.print(result, () =>
        renderTable(result.tokens, [
          ['ID', (t) => t.id],
          ['NAME', (t) => t.name],
          ['ROLE', (t) => t.role],
          ['USER', (t) => t.userId],
          ['REVOKED', (t) => t.revokedAt],
          ['LAST USED', (t) => t.lastUsedAt],
        ]),
      );
    });
  token
    .command('revoke <id>')
    .description('revoke an admin token')
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call(client, 'DELETE', `/admin/v1/admin-tokens/${encodeURIComponent(id)}`),
      );
      ctx.print(result, () => `revoked ${id}\n`);
    });
}

export function registerLifecycleCommands(program: Command, io: CliIo) {
  program
    .command('lifecycle')
    .description('ownership housekeeping')
    .command('sweep')
    .description('suspend agents orphaned past the grace period (the server also does this on a timer)')
    .action(async (_options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ suspended: string[]; expiredAssertionsPurged: number }>(
          client,
          'POST',
          '/admin/v1/lifecycle/sweep',
        ),
      );
      ctx.print(result, () =>
        renderRecord({
          suspended: result.suspended,
          expiredAssertionsPurged: result.expiredAssertionsPurged,
        }),
      );
    });
}
