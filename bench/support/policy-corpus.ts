/**
 * Synthetic but realistic policy bundles for bench/decide.ts, generated from a seeded PRNG so every run
 * decides the same calls against the same rules.
 *
 * The universe: services (github, vault, stripe, ... and numbered copies of them), each with one tool per
 * verb (`github.delete_issue`); agents, each in a team, with labels, a review status and a few "home"
 * services they work with. Tool labels come from a `tools:` section of globs (`*.delete_*` is destructive),
 * the way an operator would write it; `labelsOfTool` computes the same labels independently, for the Cedar
 * translation.
 *
 * Two generators:
 * - `buildCorpus`: the full language (grants by agent and team, argument constraints, label denials,
 *   `after` / `not_after` history, taint, CEL conditions, approvals, limits), plus a handful of global
 *   guardrails.
 * - `buildStaticCorpus`: only what depends on principal, tool and arguments (allow, flag, deny), emitted both
 *   as Gatehouse YAML and as equivalent Cedar policies.
 *
 * Each generated rule comes with a witness (an agent, a tool, arguments) that satisfies its static part, so
 * the request mix can aim at allow rules, deny rules and guardrails rather than only at default deny.
 */
import { stringify } from 'yaml';
import type { PolicySource, Principal } from '../../src/policy/index.js';

export type Rng = () => number;

/** mulberry32: small, fast and good enough to pick rules and arguments. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

function pickWeighted<K extends string>(rng: Rng, weights: Readonly<Record<K, number>>): K {
  const entries = Object.entries(weights) as Array<[K, number]>;
  let roll = rng() * entries.reduce((sum, [, weight]) => sum + weight, 0);
  for (const [key, weight] of entries) {
    roll -= weight;
    if (roll < 0) return key;
  }
  return (entries.at(-1) as [K, number])[0];
}

// -----------------------------------------------------------------------------------------------------------
// Universe

const SERVICE_BASES = [
  'github',
  'jira',
  'slack',
  'stripe',
  'crm',
  'vault',
  'fs',
  'web',
  'email',
  'shell',
  'db',
  's3',
  'k8s',
  'pagerduty',
  'salesforce',
  'zendesk',
  'notion',
  'gdrive',
  'http',
  'bigquery',
] as const;
const VERBS = [
  'read',
  'list',
  'get',
  'search',
  'query',
  'download',
  'create',
  'update',
  'write',
  'delete',
  'send',
  'post',
  'upload',
  'export',
  'fetch',
  'run',
  'pay',
  'admin',
  'sync',
  'approve',
] as const;
const OBJECTS = [
  'issue',
  'record',
  'file',
  'message',
  'order',
  'secret',
  'page',
  'ticket',
  'job',
  'user',
] as const;
const READ_VERBS = new Set<string>(['read', 'list', 'get', 'search', 'query', 'download']);
const EGRESS_VERBS = new Set<string>(['send', 'post', 'upload', 'export']);
const WRITE_VERBS = new Set<string>(['create', 'update', 'write', 'sync', 'approve']);
const RISKY = ['egress', 'exec', 'destructive', 'payments'];

/** The `tools:` and `labels:` sections every generated bundle starts with. */
const TOOLS_YAML = `integrity_labels: [untrusted]
tools:
  - match: ['*.read_*', '*.list_*', '*.get_*', '*.search_*', '*.query_*', '*.download_*']
    labels: ['reads:internal']
  - match: ['vault*.read_*', 'vault*.get_*', 'vault*.download_*']
    labels: ['reads:secret']
  - match: ['web*.*', 'email*.read_*', '*.fetch_*']
    labels: ['reads:untrusted']
  - match: ['*.send_*', '*.post_*', '*.upload_*', '*.export_*']
    labels: [egress]
  - match: ['*.run_*', 'shell*.*']
    labels: [exec]
  - match: ['*.pay_*', 'stripe*.create_*']
    labels: [payments]
  - match: ['*.delete_*', '*.admin_*']
    labels: [destructive]
  - match: ['*.create_*', '*.update_*', '*.write_*', '*.sync_*', '*.approve_*']
    labels: [writes]
labels:
  sensitive-reads:
    includes: ['reads:secret', 'reads:internal']
  risky:
    includes: [egress, exec, destructive, payments]
`;

/** The labels `TOOLS_YAML` gives a tool, groups included, computed without the policy engine. */
export function labelsOfTool(base: string, verb: string): string[] {
  const labels = new Set<string>();
  if (READ_VERBS.has(verb)) labels.add('reads:internal');
  if (base === 'vault' && (verb === 'read' || verb === 'get' || verb === 'download'))
    labels.add('reads:secret');
  if (base === 'web' || (base === 'email' && verb === 'read') || verb === 'fetch')
    labels.add('reads:untrusted');
  if (EGRESS_VERBS.has(verb)) labels.add('egress');
  if (verb === 'run' || base === 'shell') labels.add('exec');
  if (verb === 'pay' || (base === 'stripe' && verb === 'create')) labels.add('payments');
  if (verb === 'delete' || verb === 'admin') labels.add('destructive');
  if (WRITE_VERBS.has(verb)) labels.add('writes');
  if (labels.has('reads:secret') || labels.has('reads:internal')) labels.add('sensitive-reads');
  if (RISKY.some((label) => labels.has(label))) labels.add('risky');
  return [...labels].sort();
}

export interface ToolInfo {
  name: string;
  service: string;
  base: string;
  verb: string;
  labels: string[];
}

export interface Agent {
  principal: Principal & { name: string; team: string };
  /** Services the agent mostly works with. */
  home: string[];
}

export interface Universe {
  services: string[];
  tools: ToolInfo[];
  toolsByService: Map<string, ToolInfo[]>;
  toolsByLabel: Map<string, ToolInfo[]>;
  agents: Agent[];
  agentsByTeam: Map<string, Agent[]>;
  teams: string[];
}

/** One tool per verb per service: `tools` is rounded up to a multiple of 20. */
export function buildUniverse(rng: Rng, size: { tools: number; agents: number; teams: number }): Universe {
  const serviceCount = Math.max(1, Math.ceil(size.tools / VERBS.length));
  const services: string[] = [];
  const tools: ToolInfo[] = [];
  const toolsByService = new Map<string, ToolInfo[]>();
  const toolsByLabel = new Map<string, ToolInfo[]>();
  for (let index = 0; index < serviceCount; index += 1) {
    const base = SERVICE_BASES[index % SERVICE_BASES.length] as string;
    const round = Math.floor(index / SERVICE_BASES.length);
    const service = round === 0 ? base : `${base}${round}`;
    services.push(service);
    const own: ToolInfo[] = VERBS.map((verb, position) => ({
      name: `${service}.${verb}_${OBJECTS[(index + position) % OBJECTS.length]}`,
      service,
      base,
      verb,
      labels: labelsOfTool(base, verb),
    }));
    toolsByService.set(service, own);
    for (const tool of own) {
      tools.push(tool);
      for (const label of tool.labels) {
        const list = toolsByLabel.get(label);
        if (list) list.push(tool);
        else toolsByLabel.set(label, [tool]);
      }
    }
  }
  const teams = Array.from({ length: size.teams }, (_, index) => `team-${String(index).padStart(3, '0')}`);
  const agents: Agent[] = [];
  const agentsByTeam = new Map<string, Agent[]>();
  for (let index = 0; index < size.agents; index += 1) {
    const team = teams[index % teams.length] as string;
    const home = [...new Set([pick(rng, services), pick(rng, services), pick(rng, services)])];
    const agent: Agent = {
      principal: {
        id: `agt_${(0x5a3c91 + index * 7919).toString(36).padStart(8, '0')}`,
        name: `agent-${String(index).padStart(4, '0')}`,
        team,
        labels: { env: pick(rng, ['prod', 'prod', 'staging', 'dev']), tier: pick(rng, ['gold', 'silver']) },
        review: rng() < 0.9 ? 'approved' : 'pending',
      },
      home,
    };
    agents.push(agent);
    const members = agentsByTeam.get(team);
    if (members) members.push(agent);
    else agentsByTeam.set(team, [agent]);
  }
  return { services, tools, toolsByService, toolsByLabel, agents, agentsByTeam, teams };
}

function toolOf(universe: Universe, service: string, verb: string): ToolInfo {
  const tool = universe.toolsByService.get(service)?.find((candidate) => candidate.verb === verb);
  if (!tool) throw new Error(`no ${verb} tool in ${service}`);
  return tool;
}

function toolsWithLabel(universe: Universe, label: string): ToolInfo[] {
  return universe.toolsByLabel.get(label) ?? [];
}

function homeTool(rng: Rng, universe: Universe, agent: Agent): ToolInfo {
  return pick(rng, universe.toolsByService.get(pick(rng, agent.home)) ?? universe.tools);
}

const PROJECTS = ['apollo', 'gemini', 'mercury', 'artemis', 'voyager', 'pioneer', 'viking', 'cassini'];
const GOOD_URLS = [
  'https://api.example.com/v1/items',
  'https://docs.example.com/page',
  'https://example.com/',
];
const BAD_URLS = ['https://evil.example.org/x', 'http://203.0.113.9/upload', 'https://paste.example.net/raw'];
const GOOD_EMAILS = ['alice@corp.example', 'Bob <bob@eu.corp.example>', 'carol@corp.example'];
const BAD_EMAILS = ['eve@evil.example', 'mallory@partner.example'];

/** What a call of this kind usually carries, before a witness pins the arguments its rule looks at. */
function ambientArgs(rng: Rng): Record<string, unknown> {
  const args: Record<string, unknown> = { request_id: `req_${Math.floor(rng() * 1e9).toString(36)}` };
  if (rng() < 0.5) args.project = pick(rng, PROJECTS);
  if (rng() < 0.4) args.amount = Math.floor(rng() * rng() * 20_000);
  if (rng() < 0.3) args.env = pick(rng, ['dev', 'staging', 'prod']);
  if (rng() < 0.25) args.url = pick(rng, rng() < 0.7 ? GOOD_URLS : BAD_URLS);
  if (rng() < 0.25) args.to = pick(rng, rng() < 0.7 ? GOOD_EMAILS : BAD_EMAILS);
  if (rng() < 0.25) args.customer_id = rng() < 0.7 ? 'cus_1' : 'cus_2';
  return args;
}

/** A call that satisfies a rule's principal, tool and argument constraints. */
export interface Witness {
  agent: Agent;
  tool: ToolInfo;
  args: Record<string, unknown>;
}

export type RuleGroup = 'allow' | 'deny' | 'guardrail';

interface GeneratedRule {
  spec: Record<string, unknown>;
  group: RuleGroup;
  witness: Witness | undefined;
}

const agentRef = (rng: Rng, agent: Agent) => (rng() < 0.5 ? agent.principal.name : agent.principal.id);
const pad = (index: number) => String(index).padStart(5, '0');

function agentOfTeam(rng: Rng, universe: Universe, team: string): Agent {
  return pick(rng, universe.agentsByTeam.get(team) ?? universe.agents);
}

// -----------------------------------------------------------------------------------------------------------
// The full language

const FULL_WEIGHTS = {
  grantAgent: 48,
  grantTeam: 8,
  grantArgs: 12,
  denyToolArgs: 7,
  denyLabelTeam: 2,
  history: 8,
  taint: 3,
  approveArgs: 4,
  cel: 6,
  flagLabel: 1,
  limit: 1,
} as const;

/** Organisation-wide guardrails: a handful whatever the bundle's size, some with no tool matcher at all. */
const GLOBAL_RULES: Record<string, unknown>[] = [
  { id: 'global-quarantine', principal: { labels: { status: ['quarantined'] } }, effect: 'deny' },
  {
    id: 'global-unreviewed-risky',
    principal: { review: ['pending'] },
    tool: { labels: ['risky'] },
    effect: 'approve',
  },
  {
    id: 'global-secret-egress',
    description: 'nothing leaves once the session has read a secret',
    tool: { labels: ['egress'] },
    taint: ['secret'],
    effect: 'deny',
  },
  {
    id: 'global-untrusted-exec',
    tool: { labels: ['exec'] },
    after: { label: 'reads:untrusted', within: { steps: 3 } },
    effect: 'deny',
  },
  { id: 'global-flag-destructive', tool: { labels: ['destructive'] }, effect: 'flag' },
];

function fullRule(rng: Rng, universe: Universe, index: number): GeneratedRule {
  const kind = pickWeighted(rng, FULL_WEIGHTS);
  const agent = pick(rng, universe.agents);
  const id = `${kind.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}-${pad(index)}`;
  const service = pick(rng, agent.home);
  switch (kind) {
    case 'grantAgent': {
      const tools = [
        ...new Set(Array.from({ length: 1 + Math.floor(rng() * 4) }, () => homeTool(rng, universe, agent))),
      ];
      return {
        spec: {
          id,
          principal: { agents: [agentRef(rng, agent)] },
          tool: tools.map((tool) => tool.name),
          effect: 'allow',
        },
        group: 'allow',
        witness: { agent, tool: pick(rng, tools), args: {} },
      };
    }
    case 'grantTeam': {
      const team = agent.principal.team;
      const readOnly = rng() < 0.6;
      const tools = (universe.toolsByService.get(service) ?? []).filter(
        (tool) => !readOnly || tool.verb === 'read' || tool.verb === 'list',
      );
      return {
        spec: {
          id,
          principal: { teams: [team] },
          tool: readOnly ? [`${service}.read_*`, `${service}.list_*`] : `${service}.*`,
          effect: 'allow',
        },
        group: 'allow',
        witness: { agent: agentOfTeam(rng, universe, team), tool: pick(rng, tools), args: {} },
      };
    }
    case 'grantArgs': {
      const tool = homeTool(rng, universe, agent);
      const variants: Array<() => [Record<string, unknown>, Record<string, unknown>]> = [
        () => {
          const max = pick(rng, [100, 500, 1000, 5000]);
          return [{ amount: { min: 0, max } }, { amount: Math.floor(max / 2) }];
        },
        () => {
          const allowed = [...new Set([pick(rng, PROJECTS), pick(rng, PROJECTS), pick(rng, PROJECTS)])];
          return [{ project: { one_of: allowed } }, { project: allowed[0] }];
        },
        () => [{ url: { host_in: ['*.example.com', 'example.com'] } }, { url: pick(rng, GOOD_URLS) }],
        () => [
          { to: { email_domain_in: ['corp.example', '*.corp.example'] } },
          { to: pick(rng, GOOD_EMAILS) },
        ],
      ];
      const [args, witnessArgs] = pick(rng, variants)();
      return {
        spec: { id, principal: { agents: [agentRef(rng, agent)] }, tool: tool.name, args, effect: 'allow' },
        group: 'allow',
        witness: { agent, tool, args: witnessArgs },
      };
    }
    case 'denyToolArgs': {
      const variant = Math.floor(rng() * 4);
      const team = rng() < 0.5 ? agent.principal.team : undefined;
      const principal = team === undefined ? {} : { principal: { teams: [team] } };
      const [tool, pattern, args, witnessArgs] =
        variant === 0
          ? [
              toolOf(universe, service, 'delete'),
              `${service}.delete_*`,
              { env: { one_of: ['prod'] } },
              { env: 'prod' },
            ]
          : variant === 1
            ? [toolOf(universe, service, 'pay'), undefined, { amount: { min: 10_000 } }, { amount: 15_000 }]
            : variant === 2
              ? [
                  toolOf(universe, service, 'send'),
                  undefined,
                  { to: { email_domain_not_in: ['corp.example', '*.corp.example'] } },
                  { to: pick(rng, BAD_EMAILS) },
                ]
              : [
                  toolOf(universe, service, 'fetch'),
                  undefined,
                  { url: { host_not_in: ['*.example.com', 'example.com'] } },
                  { url: pick(rng, BAD_URLS) },
                ];
      return {
        spec: { id, ...principal, tool: pattern ?? tool.name, args, effect: 'deny' },
        group: 'deny',
        witness: {
          agent: team === undefined ? agent : agentOfTeam(rng, universe, team),
          tool,
          args: witnessArgs,
        },
      };
    }
    case 'denyLabelTeam': {
      // Mostly about the team's development agents: no payments, deletions, shells or egress from dev.
      const label = pick(rng, ['exec', 'destructive', 'payments', 'egress']);
      const team = agent.principal.team;
      const devs = (universe.agentsByTeam.get(team) ?? []).filter(
        (member) => member.principal.labels?.env === 'dev',
      );
      const target = devs.length > 0 && rng() < 0.8 ? pick(rng, devs) : agent;
      const env = target.principal.labels?.env ?? 'dev';
      return {
        spec: {
          id,
          principal: { teams: [team], labels: { env: [env] } },
          tool: { labels: [label] },
          effect: 'deny',
          reason: `${team} may not use ${label} tools in ${env}`,
        },
        group: 'deny',
        witness: { agent: target, tool: pick(rng, toolsWithLabel(universe, label)), args: {} },
      };
    }
    case 'history': {
      const variant = Math.floor(rng() * 4);
      if (variant === 0) {
        const tool = toolOf(universe, service, pick(rng, ['post', 'send', 'upload']));
        return {
          spec: {
            id,
            description: 'a read followed by egress may be exfiltration',
            tool: tool.name,
            after: { label: 'sensitive-reads', within: { steps: 10 } },
            effect: 'flag',
          },
          group: 'guardrail',
          witness: { agent, tool, args: {} },
        };
      }
      if (variant === 1) {
        return {
          spec: {
            id,
            principal: { teams: [agent.principal.team] },
            tool: `${service}.run_*`,
            after: { tool: `${pick(rng, universe.services)}.*`, outcome: 'denied', within: { seconds: 600 } },
            effect: 'deny',
            terminate: true,
          },
          group: 'guardrail',
          witness: { agent, tool: toolOf(universe, service, 'run'), args: {} },
        };
      }
      if (variant === 2) {
        // No window: scans the whole remembered history.
        const tool = homeTool(rng, universe, agent);
        return {
          spec: {
            id,
            tool: tool.name,
            after: { tool: `${pick(rng, universe.services)}.read_*` },
            effect: 'flag',
          },
          group: 'guardrail',
          witness: { agent, tool, args: {} },
        };
      }
      const tool = homeTool(rng, universe, agent);
      return {
        spec: {
          id,
          principal: { agents: [agentRef(rng, agent)] },
          tool: tool.name,
          not_after: { label: 'destructive', outcome: 'denied', within: { steps: 20 } },
          effect: 'allow',
        },
        group: 'allow',
        witness: { agent, tool, args: {} },
      };
    }
    case 'taint': {
      if (rng() < 0.5) {
        return {
          spec: {
            id,
            principal: { teams: [agent.principal.team] },
            tool: { labels: ['egress'] },
            taint: { secrecy: ['secret'] },
            effect: 'deny',
          },
          group: 'guardrail',
          witness: { agent, tool: pick(rng, toolsWithLabel(universe, 'egress')), args: {} },
        };
      }
      const tool = toolOf(universe, service, 'send');
      return {
        spec: {
          id,
          tool: tool.name,
          taint: { integrity: ['untrusted'] },
          args: { to: { email_domain_not_in: ['corp.example'] } },
          effect: 'approve',
          approvers: 2,
        },
        group: 'guardrail',
        witness: { agent, tool, args: { to: pick(rng, BAD_EMAILS) } },
      };
    }
    case 'approveArgs': {
      const tool = toolOf(universe, service, pick(rng, ['pay', 'create', 'export']));
      const min = pick(rng, [1000, 2500, 5000]);
      return {
        spec: {
          id,
          tool: tool.name,
          args: { amount: { min } },
          effect: 'approve',
          approvers: 1 + Math.floor(rng() * 2),
        },
        group: 'guardrail',
        witness: { agent, tool, args: { amount: min + 100 } },
      };
    }
    case 'cel': {
      const tool = homeTool(rng, universe, agent);
      const [condition, effect, args] = pick(rng, [
        [
          'has(call.args.customer_id) && call.args.customer_id != session.scope.customer',
          'deny',
          { customer_id: 'cus_2' },
        ],
        [
          'has(call.args.amount) && call.args.amount > 1000 && session.step > 20',
          'approve',
          { amount: 1500 },
        ],
        ['call.tool in session.counts.hour.tools && session.counts.hour.tools[call.tool] >= 3', 'flag', {}],
        [
          'has(call.args.url) && !host_in(call.args.url, ["*.example.com", "example.com"])',
          'deny',
          { url: BAD_URLS[0] },
        ],
        ['size(chain) > 2 || principal.review != "approved"', 'flag', {}],
      ] as const);
      return {
        spec: { id, tool: tool.name, condition, effect },
        group: 'guardrail',
        witness: { agent, tool, args: { ...args } },
      };
    }
    case 'flagLabel': {
      return {
        spec: {
          id,
          principal: { teams: [agent.principal.team] },
          tool: { labels: ['destructive'] },
          effect: 'flag',
        },
        group: 'guardrail',
        witness: { agent, tool: pick(rng, toolsWithLabel(universe, 'destructive')), args: {} },
      };
    }
    case 'limit': {
      const tool = homeTool(rng, universe, agent);
      return {
        spec: {
          id,
          tool: tool.name,
          limit: { count: 5, per: 'hour', of: { tool: tool.name } },
          effect: 'deny',
        },
        group: 'guardrail',
        witness: { agent, tool, args: {} },
      };
    }
  }
}

export interface Corpus {
  universe: Universe;
  sources: PolicySource[];
  rules: number;
  witnesses: Record<RuleGroup, Witness[]>;
}

/** Sizes that grow with the bundle: about 5 rules per tool and 20 per agent, 10 agents per team. */
export function sizeFor(rules: number) {
  const tools = Math.max(20, Math.round(rules / 5));
  const agents = Math.max(4, Math.round(rules / 20));
  return { tools, agents, teams: Math.max(2, Math.round(agents / 10)) };
}

/** Splits rules into files of at most 500, as a large organisation's bundle would be. */
function toSources(rules: Record<string, unknown>[]): PolicySource[] {
  const sources: PolicySource[] = [{ name: 'tools.yaml', text: TOOLS_YAML }];
  for (let offset = 0; offset < rules.length; offset += 500) {
    sources.push({
      name: `rules-${String(offset / 500).padStart(2, '0')}.yaml`,
      text: stringify({ rules: rules.slice(offset, offset + 500) }, { lineWidth: 0 }),
    });
  }
  return sources;
}

export function buildCorpus(seed: number, rules: number): Corpus {
  const rng = createRng(seed);
  const universe = buildUniverse(rng, sizeFor(rules));
  const specs: Record<string, unknown>[] = [...GLOBAL_RULES];
  const witnesses: Record<RuleGroup, Witness[]> = { allow: [], deny: [], guardrail: [] };
  for (let index = specs.length; index < rules; index += 1) {
    const rule = fullRule(rng, universe, index);
    specs.push(rule.spec);
    if (rule.witness) witnesses[rule.group].push(rule.witness);
  }
  return { universe, sources: toSources(specs), rules: specs.length, witnesses };
}

export interface PreparedCall {
  agent: Agent;
  tool: string;
  args: Record<string, unknown>;
}

/**
 * The request mix: calls aimed at allow rules, at deny rules, at guardrails (history, taint, CEL, approvals,
 * limits) and at random agent/tool pairs, which mostly fall through to default deny.
 */
export function prepareCalls(
  seed: number,
  corpus: Pick<Corpus, 'universe' | 'witnesses'>,
  count: number,
  mix: Record<RuleGroup | 'random', number>,
): PreparedCall[] {
  const rng = createRng(seed);
  const calls: PreparedCall[] = [];
  for (let index = 0; index < count; index += 1) {
    const group = pickWeighted(rng, mix);
    const pool = group === 'random' ? [] : corpus.witnesses[group];
    if (pool.length === 0) {
      calls.push({
        agent: pick(rng, corpus.universe.agents),
        tool: pick(rng, corpus.universe.tools).name,
        args: ambientArgs(rng),
      });
      continue;
    }
    const witness = pick(rng, pool);
    calls.push({
      agent: witness.agent,
      tool: witness.tool.name,
      args: { ...ambientArgs(rng), ...witness.args },
    });
  }
  return calls;
}

/**
 * The tools one agent's session called. A focused session (the default) works with a set of `workingSet`
 * tools from the agent's home services (90% of calls) and touches the rest of them now and then; a broad one
 * (`workingSet: 0`) picks any home tool. Either way 5% of calls go to any tool, secret reads excepted, and
 * about 1 session in 4 reads one secret, a third of the way in.
 */
export function sessionTools(seed: number, universe: Universe, length: number, workingSet = 10): string[] {
  const rng = createRng(seed);
  const agent = pick(rng, universe.agents);
  const secrets = toolsWithLabel(universe, 'reads:secret');
  const readsSecret = secrets.length > 0 && rng() < 0.25;
  const usable = (tool: ToolInfo) => !tool.labels.includes('reads:secret');
  const home = agent.home.flatMap((service) => universe.toolsByService.get(service) ?? []).filter(usable);
  const focus = Array.from({ length: workingSet }, () => pick(rng, home));
  const ordinary = () => {
    for (;;) {
      const roll = rng();
      const tool =
        roll < 0.05
          ? pick(rng, universe.tools)
          : focus.length > 0 && roll < 0.9
            ? pick(rng, focus)
            : pick(rng, home);
      if (usable(tool)) return tool.name;
    }
  };
  return Array.from({ length }, (_, index) =>
    readsSecret && index === Math.floor(length / 3) ? pick(rng, secrets).name : ordinary(),
  );
}

// -----------------------------------------------------------------------------------------------------------
// Static rules, in Gatehouse YAML and in Cedar

const STATIC_WEIGHTS = {
  grantAgent: 50,
  grantTeam: 10,
  grantArgs: 18,
  flagArgs: 4,
  denyToolArgs: 10,
  denyLabelTeam: 8,
} as const;

export interface StaticCorpus extends Corpus {
  /** Cedar policies by id (the Gatehouse rule id). */
  cedarPolicies: Record<string, string>;
}

const cedarString = (value: string) => JSON.stringify(value);
const cedarAction = (id: string) => `Action::${cedarString(id)}`;
const cedarSet = (values: readonly string[]) => `[${values.map(cedarString).join(', ')}]`;
const cedarActions = (tools: readonly ToolInfo[]) =>
  `[${tools.map((tool) => cedarAction(tool.name)).join(', ')}]`;
const cedarTeam = (team: string) => `principal in Team::${cedarString(team)}`;

interface StaticRule {
  spec: Record<string, unknown>;
  cedar: string;
  group: RuleGroup;
  witness: Witness;
}

function staticRule(rng: Rng, universe: Universe, index: number): StaticRule {
  const kind = pickWeighted(rng, STATIC_WEIGHTS);
  const agent = pick(rng, universe.agents);
  const id = `${kind.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}-${pad(index)}`;
  const service = pick(rng, agent.home);
  const agentClause = `principal == Agent::${cedarString(agent.principal.id)}`;
  switch (kind) {
    case 'grantAgent': {
      const tools = [
        ...new Set(Array.from({ length: 1 + Math.floor(rng() * 4) }, () => homeTool(rng, universe, agent))),
      ];
      return {
        spec: {
          id,
          principal: { agents: [agentRef(rng, agent)] },
          tool: tools.map((tool) => tool.name),
          effect: 'allow',
        },
        cedar: `permit (${agentClause}, action in ${cedarActions(tools)}, resource);`,
        group: 'allow',
        witness: { agent, tool: pick(rng, tools), args: {} },
      };
    }
    case 'grantTeam': {
      const team = agent.principal.team;
      const byLabel = rng() < 0.3;
      const tools = byLabel
        ? toolsWithLabel(universe, 'reads:internal')
        : (universe.toolsByService.get(service) ?? []);
      const group = byLabel ? 'label:reads:internal' : `service:${service}`;
      return {
        spec: {
          id,
          principal: { teams: [team] },
          tool: byLabel ? { labels: ['reads:internal'] } : `${service}.*`,
          effect: 'allow',
        },
        cedar: `permit (${cedarTeam(team)}, action in ${cedarAction(group)}, resource);`,
        group: 'allow',
        witness: { agent: agentOfTeam(rng, universe, team), tool: pick(rng, tools), args: {} },
      };
    }
    case 'grantArgs':
    case 'flagArgs': {
      const tool = homeTool(rng, universe, agent);
      let args: Record<string, unknown>;
      let when: string;
      let witnessArgs: Record<string, unknown>;
      if (kind === 'flagArgs') {
        const min = pick(rng, [500, 1000, 5000]);
        args = { amount: { min } };
        when = `context has amount && context.amount >= ${min}`;
        witnessArgs = { amount: min + 1 };
      } else if (rng() < 0.5) {
        const max = pick(rng, [100, 500, 1000, 5000]);
        args = { amount: { min: 0, max } };
        when = `context has amount && context.amount >= 0 && context.amount <= ${max}`;
        witnessArgs = { amount: Math.floor(max / 2) };
      } else {
        const allowed = [...new Set([pick(rng, PROJECTS), pick(rng, PROJECTS), pick(rng, PROJECTS)])];
        args = { project: { one_of: allowed } };
        when = `context has project && ${cedarSet(allowed)}.contains(context.project)`;
        witnessArgs = { project: allowed[0] };
      }
      return {
        spec: {
          id,
          principal: { agents: [agentRef(rng, agent)] },
          tool: tool.name,
          args,
          effect: kind === 'flagArgs' ? 'flag' : 'allow',
        },
        cedar: `permit (${agentClause}, action == ${cedarAction(tool.name)}, resource) when { ${when} };`,
        group: 'allow',
        witness: { agent, tool, args: witnessArgs },
      };
    }
    case 'denyToolArgs': {
      const variant = Math.floor(rng() * 3);
      const tool = toolOf(universe, service, variant === 1 ? 'pay' : 'delete');
      const [args, when, witnessArgs] =
        variant === 0
          ? [{ env: { one_of: ['prod'] } }, 'context has env && context.env == "prod"', { env: 'prod' }]
          : variant === 1
            ? [
                { amount: { min: 10_000 } },
                'context has amount && context.amount >= 10000',
                { amount: 12_000 },
              ]
            : [
                { env: { not_one_of: ['dev', 'staging'] } },
                'context has env && !["dev", "staging"].contains(context.env)',
                { env: 'prod' },
              ];
      return {
        spec: { id, tool: tool.name, args, effect: 'deny' },
        cedar: `forbid (principal, action == ${cedarAction(tool.name)}, resource) when { ${when} };`,
        group: 'deny',
        witness: { agent, tool, args: witnessArgs },
      };
    }
    case 'denyLabelTeam': {
      const label = pick(rng, ['exec', 'destructive', 'payments', 'egress']);
      const team = agent.principal.team;
      return {
        spec: { id, principal: { teams: [team] }, tool: { labels: [label] }, effect: 'deny' },
        cedar: `forbid (${cedarTeam(team)}, action in ${cedarAction(`label:${label}`)}, resource);`,
        group: 'deny',
        witness: {
          agent: agentOfTeam(rng, universe, team),
          tool: pick(rng, toolsWithLabel(universe, label)),
          args: {},
        },
      };
    }
  }
}

/** Static-only rules (principal, tool, arguments; allow, flag, deny), in both languages. */
export function buildStaticCorpus(seed: number, rules: number): StaticCorpus {
  const rng = createRng(seed);
  const universe = buildUniverse(rng, sizeFor(rules));
  const specs: Record<string, unknown>[] = [];
  const cedarPolicies: Record<string, string> = {};
  const witnesses: Record<RuleGroup, Witness[]> = { allow: [], deny: [], guardrail: [] };
  for (let index = 0; index < rules; index += 1) {
    const rule = staticRule(rng, universe, index);
    specs.push(rule.spec);
    cedarPolicies[rule.spec.id as string] = rule.cedar;
    witnesses[rule.group].push(rule.witness);
  }
  return { universe, sources: toSources(specs), rules: specs.length, witnesses, cedarPolicies };
}

/** Cedar entities for a request: the agent (a member of its team), the tool (in its service and labels). */
export function cedarEntities(agent: Agent, tool: ToolInfo) {
  return [
    {
      uid: { type: 'Agent', id: agent.principal.id },
      attrs: { name: agent.principal.name },
      parents: [{ type: 'Team', id: agent.principal.team }],
    },
    {
      uid: { type: 'Action', id: tool.name },
      attrs: {},
      parents: [
        { type: 'Action', id: `service:${tool.service}` },
        ...tool.labels.map((label) => ({ type: 'Action', id: `label:${label}` })),
      ],
    },
  ];
}
