import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { GatehouseError } from '../../errors/index.js';
import { type AgentView, describeInventory, type InventorySummary } from '../../server/views.js';
import { collectLabel, collectList, createCommandContext } from '../context.js';
import { type CliIo, renderRecord, renderTable } from '../output.js';

type TeamView = { id: string; name: string; description: string | null; createdAt: string };
type UserView = { id: string; email: string; displayName: string | null; active: boolean };

const enc = encodeURIComponent;

function agentRows(agents: AgentView[]): string {
  return renderTable(agents, [
    ['ID', (a) => a.id],
    ['NAME', (a) => a.name],
    ['TEAM', (a) => a.team.name],
    ['SPONSOR', (a) => a.sponsor.email],
    ['REVIEW', (a) => a.reviewStatus],
    ['STATE', (a) => a.state],
    ['MANIFEST', (a) => a.manifestVersion],
    ['FLAGS', (a) => [a.needsSponsor ? 'needs_sponsor' : '', a.orphaned ? 'orphaned' : ''].filter(Boolean)],
  ]);
}

function agentDetail(agent: AgentView): string {
  return renderRecord({
    id: agent.id,
    name: agent.name,
    description: agent.description,
    team: `${agent.team.name} (${agent.team.id})`,
    sponsor: `${agent.sponsor.email}${agent.sponsor.active ? '' : ' (deactivated)'}`,
    labels: agent.labels,
    review:
      agent.reviewStatus +
      (agent.reviewedVersion ? ` (v${agent.reviewedVersion} by ${agent.reviewedBy?.email})` : ''),
    state: agent.state + (agent.stateReason ? ` (${agent.stateReason})` : ''),
    manifest: agent.manifestVersion ? `v${agent.manifestVersion}` : null,
    needsSponsor: agent.needsSponsor,
    orphanedAt: agent.orphanedAt,
    createdAt: agent.createdAt,
    updatedAt: agent.updatedAt,
  });
}

/** Reads a YAML or JSON file (YAML is a superset of JSON). */
function readStructuredFile(path: string, cwd: string): unknown {
  const file = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new GatehouseError('invalid_request', `cannot read \`${path}\``, { cause });
  }
  try {
    return parseYaml(text);
  } catch (cause) {
    throw new GatehouseError('invalid_request', `\`${path}\` is not valid YAML or JSON`, { cause });
  }
}

function readTextFile(path: string, cwd: string): string {
  try {
    return readFileSync(resolve(cwd, path), 'utf8');
  } catch (cause) {
    throw new GatehouseError('invalid_request', `cannot read \`${path}\``, { cause });
  }
}

export function registerTeamCommands(program: Command, io: CliIo) {
  const team = program.command('team').description('teams own agents');
  team
    .command('create <name>')
    .description('create a team')
    .option('--description <text>', 'what the team does')
    .action(async (name: string, options: { description?: string }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ team: TeamView }>(client, 'POST', '/admin/v1/teams', {
          name,
          description: options.description,
        }),
      );
      ctx.print(result, () => `created team ${result.team.name} (${result.team.id})\n`);
    });
  team
    .command('list')
    .description('list teams')
    .action(async (_options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ teams: TeamView[] }>(client, 'GET', '/admin/v1/teams'),
      );
      ctx.print(result, () =>
        renderTable(result.teams, [
          ['ID', (t) => t.id],
          ['NAME', (t) => t.name],
          ['DESCRIPTION', (t) => t.description],
        ]),
      );
    });
  team
    .command('show <team>')
    .description('show a team, its members and agents')
    .action(async (ref: string, _options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ team: TeamView; members: UserView[]; agentIds: string[] }>(
          client,
          'GET',
          `/admin/v1/teams/${enc(ref)}`,
        ),
      );
      ctx.print(result, () =>
        renderRecord({
          ...result.team,
          members: result.members.map((m) => `${m.email}${m.active ? '' : ' (deactivated)'}`),
          agents: result.agentIds,
        }),
      );
    });
  for (const [verb, method] of [
    ['add-member', 'POST'],
    ['remove-member', 'DELETE'],
  ] as const) {
    team
      .command(`${verb} <team> <user>`)
      .description(verb === 'add-member' ? 'add a user to a team' : 'remove a user from a team')
      .action(async (teamRef: string, userRef: string, _options: object, command: Command) => {
        const ctx = createCommandContext(io, command);
        const result = await ctx.withClient((client) =>
          method === 'POST'
            ? ctx.call(client, 'POST', `/admin/v1/teams/${enc(teamRef)}/members`, { user: userRef })
            : ctx.call(client, 'DELETE', `/admin/v1/teams/${enc(teamRef)}/members/${enc(userRef)}`),
        );
        ctx.print(
          result,
          () =>
            `${verb === 'add-member' ? 'added' : 'removed'} ${userRef} ${verb === 'add-member' ? 'to' : 'from'} ${teamRef}\n`,
        );
      });
  }
}

export function registerUserCommands(program: Command, io: CliIo) {
  const user = program.command('user').description('people: sponsors, reviewers, team members');
  user
    .command('create <email>')
    .description('create a user')
    .option('--name <displayName>', 'display name')
    .option('--team <team>', 'add to a team (repeatable)', collectList)
    .action(async (email: string, options: { name?: string; team?: string[] }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ user: UserView }>(client, 'POST', '/admin/v1/users', {
          email,
          displayName: options.name,
          teams: options.team,
        }),
      );
      ctx.print(result, () => `created user ${result.user.email} (${result.user.id})\n`);
    });
  user
    .command('list')
    .description('list users')
    .option('--active', 'only active users')
    .option('--inactive', 'only deactivated users')
    .action(async (options: { active?: boolean; inactive?: boolean }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const query = options.active ? '?active=true' : options.inactive ? '?active=false' : '';
      const result = await ctx.withClient((client) =>
        ctx.call<{ users: UserView[] }>(client, 'GET', `/admin/v1/users${query}`),
      );
      ctx.print(result, () =>
        renderTable(result.users, [
          ['ID', (u) => u.id],
          ['EMAIL', (u) => u.email],
          ['NAME', (u) => u.displayName],
          ['ACTIVE', (u) => (u.active ? 'yes' : 'no')],
        ]),
      );
    });
  user
    .command('show <user>')
    .description('show a user, their teams and sponsored agents')
    .action(async (ref: string, _options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ user: UserView; teams: TeamView[]; sponsoredAgentIds: string[] }>(
          client,
          'GET',
          `/admin/v1/users/${enc(ref)}`,
        ),
      );
      ctx.print(result, () =>
        renderRecord({
          ...result.user,
          teams: result.teams.map((t) => t.name),
          sponsors: result.sponsoredAgentIds,
        }),
      );
    });
  for (const verb of ['deactivate', 'activate'] as const) {
    user
      .command(`${verb} <user>`)
      .description(
        verb === 'deactivate'
          ? 'deactivate a user: their agents are flagged needs_sponsor, emptied teams orphan theirs'
          : 'reactivate a user',
      )
      .action(async (ref: string, _options: object, command: Command) => {
        const ctx = createCommandContext(io, command);
        const result = await ctx.withClient((client) =>
          ctx.call<{ user: UserView }>(client, 'POST', `/admin/v1/users/${enc(ref)}/${verb}`),
        );
        ctx.print(result, () => `${verb}d user ${result.user.email}\n`);
      });
  }
}

export function registerAgentCommands(program: Command, io: CliIo) {
  const agent = program.command('agent').description('register and govern agents');
  agent
    .command('register <name>')
    .description(
      'register an agent; without --public-key a key pair is generated and the private key shown once',
    )
    .requiredOption('--team <team>', 'owning team')
    .requiredOption('--sponsor <email>', 'accountable person')
    .option('--description <text>', 'what the agent does')
    .option('--label <key=value>', 'label (repeatable)', collectLabel)
    .option('--public-key <file>', "the agent's public key: JWK (JSON) or SPKI PEM")
    .option('--manifest <file>', 'first manifest (YAML or JSON)')
    .option(
      '--key-out <file>',
      'write the generated private key (PEM) here, mode 0600, instead of printing it',
    )
    .action(
      async (
        name: string,
        options: {
          team: string;
          sponsor: string;
          description?: string;
          label?: Record<string, string>;
          publicKey?: string;
          manifest?: string;
          keyOut?: string;
        },
        command: Command,
      ) => {
        const ctx = createCommandContext(io, command);
        const body = {
          name,
          team: options.team,
          sponsor: options.sponsor,
          description: options.description,
          labels: options.label,
          publicKey: options.publicKey === undefined ? undefined : readTextFile(options.publicKey, io.cwd),
          manifest: options.manifest === undefined ? undefined : readStructuredFile(options.manifest, io.cwd),
        };
        const result = await ctx.withClient((client) =>
          ctx.call<{
            agent: AgentView;
            key: { kid: string; alg: string };
            credentials: { kid: string; privateKeyPem: string; privateJwk: object } | null;
            tokenEndpoint: string;
          }>(client, 'POST', '/admin/v1/agents', body),
        );
        if (result.credentials && options.keyOut) {
          writeFileSync(resolve(io.cwd, options.keyOut), result.credentials.privateKeyPem, {
            mode: 0o600,
            flag: 'wx',
          });
        }
        const shown =
          options.keyOut && result.credentials
            ? { ...result, credentials: { kid: result.credentials.kid, writtenTo: options.keyOut } }
            : result;
        ctx.print(shown, () => {
          let text = `registered agent ${result.agent.name} (${result.agent.id}), review status ${result.agent.reviewStatus}\n`;
          text += `key ${result.key.kid} (${result.key.alg}); token endpoint ${result.tokenEndpoint}\n`;
          if (result.credentials && options.keyOut) text += `private key written to ${options.keyOut}\n`;
          else if (result.credentials) {
            text += '\nprivate key (shown once, Gatehouse does not keep it):\n';
            text += result.credentials.privateKeyPem.endsWith('\n')
              ? result.credentials.privateKeyPem
              : `${result.credentials.privateKeyPem}\n`;
          }
          return text;
        });
      },
    );
  agent
    .command('list')
    .description('the inventory: every agent with team, sponsor, review status and state')
    .option('--team <team>', 'only this team')
    .option('--state <state>', 'active | suspended | retired')
    .option('--review-status <status>', 'unreviewed | approved | rejected')
    .option('--needs-sponsor', 'only agents whose sponsor left')
    .option('--orphaned', 'only agents whose team has no active member')
    .action(
      async (
        options: {
          team?: string;
          state?: string;
          reviewStatus?: string;
          needsSponsor?: boolean;
          orphaned?: boolean;
        },
        command: Command,
      ) => {
        const ctx = createCommandContext(io, command);
        const query = new URLSearchParams();
        if (options.team) query.set('team', options.team);
        if (options.state) query.set('state', options.state);
        if (options.reviewStatus) query.set('reviewStatus', options.reviewStatus);
        if (options.needsSponsor) query.set('needsSponsor', 'true');
        if (options.orphaned) query.set('orphaned', 'true');
        const qs = query.size > 0 ? `?${query}` : '';
        const result = await ctx.withClient((client) =>
          ctx.call<{ summary: InventorySummary; agents: AgentView[] }>(
            client,
            'GET',
            `/admin/v1/agents${qs}`,
          ),
        );
        ctx.print(result, () => `${describeInventory(result.summary)}\n\n${agentRows(result.agents)}`);
      },
    );
  agent
    .command('show <agent>')
    .description('show one agent')
    .action(async (ref: string, _options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ agent: AgentView; keys: { kid: string; alg: string; revokedAt: string | null }[] }>(
          client,
          'GET',
          `/admin/v1/agents/${enc(ref)}`,
        ),
      );
      ctx.print(
        result,
        () =>
          agentDetail(result.agent) +
          `keys        ${result.keys.map((k) => `${k.kid} (${k.alg}${k.revokedAt ? ', revoked' : ''})`).join(', ')}\n`,
      );
    });
  for (const verb of ['suspend', 'resume', 'retire'] as const) {
    const sub = agent.command(`${verb} <agent>`).description(
      {
        suspend: 'suspend an agent: no new tokens, its live tokens stop working',
        resume: 'resume a suspended agent',
        retire: 'retire an agent for good',
      }[verb],
    );
    if (verb !== 'resume') sub.option('--reason <text>', 'why, for the audit log');
    sub.action(async (ref: string, options: { reason?: string }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ agent: AgentView }>(client, 'POST', `/admin/v1/agents/${enc(ref)}/${verb}`, {
          reason: options.reason,
        }),
      );
      ctx.print(result, () => `agent ${result.agent.name} is now ${result.agent.state}\n`);
    });
  }
  agent
    .command('transfer <agent>')
    .description('move an agent to another team (and sponsor)')
    .requiredOption('--team <team>', 'new owning team')
    .option('--sponsor <email>', 'new sponsor')
    .option('--reason <text>', 'why, for the audit log')
    .action(
      async (ref: string, options: { team: string; sponsor?: string; reason?: string }, command: Command) => {
        const ctx = createCommandContext(io, command);
        const result = await ctx.withClient((client) =>
          ctx.call<{ agent: AgentView }>(client, 'POST', `/admin/v1/agents/${enc(ref)}/transfer`, options),
        );
        ctx.print(
          result,
          () =>
            `agent ${result.agent.name} now belongs to ${result.agent.team.name}, sponsor ${result.agent.sponsor.email}\n`,
        );
      },
    );

  const review = agent.command('review').description("approve or reject an agent's current manifest");
  for (const decision of ['approve', 'reject'] as const) {
    review
      .command(`${decision} <agent>`)
      .description(`${decision} the current manifest version (the reviewer may not be the sponsor)`)
      .option('--note <text>', 'review note')
      .option('--reviewer <email>', 'the reviewing person (implied by a user-bound token)')
      .action(async (ref: string, options: { note?: string; reviewer?: string }, command: Command) => {
        const ctx = createCommandContext(io, command);
        const result = await ctx.withClient((client) =>
          ctx.call<{ agent: AgentView }>(client, 'POST', `/admin/v1/agents/${enc(ref)}/review`, {
            decision,
            ...options,
          }),
        );
        ctx.print(
          result,
          () =>
            `agent ${result.agent.name} manifest v${result.agent.reviewedVersion} ${result.agent.reviewStatus}\n`,
        );
      });
  }

  const manifest = agent
    .command('manifest')
    .description('versioned manifests: what an agent declares it touches');
  manifest
    .command('push <agent>')
    .description('push a new manifest version (YAML or JSON); resets review to unreviewed')
    .requiredOption('--file <file>', 'manifest file')
    .action(async (ref: string, options: { file: string }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const body = readStructuredFile(options.file, io.cwd);
      const result = await ctx.withClient((client) =>
        ctx.call<{ created: boolean; manifest: { version: number }; diff: unknown }>(
          client,
          'POST',
          `/admin/v1/agents/${enc(ref)}/manifests`,
          body,
        ),
      );
      ctx.print(result, () =>
        result.created
          ? `pushed manifest v${result.manifest.version}; review reset to unreviewed\n${renderDiff(result.diff as DiffView)}`
          : `manifest unchanged (v${result.manifest.version})\n`,
      );
    });
  manifest
    .command('diff <agent>')
    .description('structural diff between two manifest versions (default: latest vs previous)')
    .option('--from <version>', 'base version')
    .option('--to <version>', 'target version')
    .action(async (ref: string, options: { from?: string; to?: string }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const query = new URLSearchParams();
      if (options.from) query.set('from', options.from);
      if (options.to) query.set('to', options.to);
      const qs = query.size > 0 ? `?${query}` : '';
      const result = await ctx.withClient((client) =>
        ctx.call<{ from: number | null; to: number; diff: DiffView }>(
          client,
          'GET',
          `/admin/v1/agents/${enc(ref)}/manifest-diff${qs}`,
        ),
      );
      ctx.print(result, () => `v${result.from ?? 0} -> v${result.to}\n${renderDiff(result.diff)}`);
    });
  manifest
    .command('list <agent>')
    .description('list manifest versions')
    .action(async (ref: string, _options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call<{ manifests: { version: number; digest: string; createdAt: string; createdBy: string }[] }>(
          client,
          'GET',
          `/admin/v1/agents/${enc(ref)}/manifests`,
        ),
      );
      ctx.print(result, () =>
        renderTable(result.manifests, [
          ['VERSION', (m) => m.version],
          ['DIGEST', (m) => m.digest.slice(0, 16)],
          ['CREATED', (m) => m.createdAt],
          ['BY', (m) => m.createdBy],
        ]),
      );
    });

  const key = agent.command('key').description("an agent's public keys");
  key
    .command('add <agent>')
    .description('add a public key (JWK or SPKI PEM file)')
    .requiredOption('--public-key <file>', 'key file')
    .action(async (ref: string, options: { publicKey: string }, command: Command) => {
      const ctx = createCommandContext(io, command);
      const publicKey = readTextFile(options.publicKey, io.cwd);
      const result = await ctx.withClient((client) =>
        ctx.call<{ key: { kid: string } }>(client, 'POST', `/admin/v1/agents/${enc(ref)}/keys`, {
          publicKey,
        }),
      );
      ctx.print(result, () => `added key ${result.key.kid}\n`);
    });
  key
    .command('revoke <agent> <kid>')
    .description('revoke a public key')
    .action(async (ref: string, kid: string, _options: object, command: Command) => {
      const ctx = createCommandContext(io, command);
      const result = await ctx.withClient((client) =>
        ctx.call(client, 'DELETE', `/admin/v1/agents/${enc(ref)}/keys/${enc(kid)}`),
      );
      ctx.print(result, () => `revoked key ${kid}\n`);
    });
}

type DiffView = {
  changed: boolean;
  description: { from: string; to: string } | null;
} & Record<'tools' | 'egressHosts' | 'llmProviders' | 'dataClasses', { added: string[]; removed: string[] }>;

function renderDiff(diff: DiffView): string {
  if (!diff.changed) return '  (no changes)\n';
  let text = '';
  for (const field of ['tools', 'egressHosts', 'llmProviders', 'dataClasses'] as const) {
    for (const value of diff[field].added) text += `  + ${field}: ${value}\n`;
    for (const value of diff[field].removed) text += `  - ${field}: ${value}\n`;
  }
  if (diff.description)
    text += `  ~ description: ${JSON.stringify(diff.description.from)} -> ${JSON.stringify(diff.description.to)}\n`;
  return text;
}
