import { describe, expect, it } from 'vitest';
import { ownersOf, parseCodeowners } from '../../src/discovery/codeowners.js';
import { analyzeCommandLine } from '../../src/discovery/command-line.js';
import { confidenceOf } from '../../src/discovery/confidence.js';
import {
  buildReport,
  createCatalog,
  defaultDiscoveryConfig,
  emptyScanStats,
  type Finding,
  fingerprintSecret,
  groupCandidates,
  type RegisteredAgentSnapshot,
  renderReport,
} from '../../src/discovery/index.js';
import { findKeysInText } from '../../src/discovery/key-formats.js';
import { mcpClientConfigFor, parseMcpClientConfig } from '../../src/discovery/mcp-client-configs.js';
import { redactCommandLine } from '../../src/discovery/redact.js';
import { findSdkDependencies, findSdkImports } from '../../src/discovery/source-signals.js';
import { parseTcpTable } from '../../src/discovery/tcp-table.js';
import { createTrafficAccumulator } from '../../src/discovery/traffic-findings.js';
import { fakeKey } from './support/processes.js';

const catalog = createCatalog(defaultDiscoveryConfig());

describe('detectors (pure)', () => {
  it('recognises key formats, most specific first, and drops placeholders', () => {
    const anthropic = fakeKey('sk-ant-api03-', 80);
    const project = fakeKey('sk-proj-', 60);
    const legacy = fakeKey('sk-', 48).replace(/[^A-Za-z0-9-]/g, 'a');
    const text = `a=${anthropic}\nb="${project}"\nc=${legacy}\nd=sk-your-key-here\ne=sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nf=${fakeKey('AIza', 35)}`;
    const found = findKeysInText(text, catalog.keyFormats);
    expect(found.map((key) => [key.kind, key.line])).toEqual([
      ['anthropic-api-key', 1],
      ['openai-project-key', 2],
      ['openai-api-key', 3],
      ['google-api-key', 6],
    ]);
    expect(found[0]?.fingerprint).toBe(fingerprintSecret(anthropic));
    expect(found[0]?.fingerprint).toMatch(/^[0-9a-f]{8}$/);
  });

  it('takes extra key patterns and variables from configuration', () => {
    const custom = createCatalog(
      defaultDiscoveryConfig({
        keyPatterns: [
          { kind: 'acme-llm-key', provider: 'acme', env: ['ACME_LLM_TOKEN'], pattern: 'acme_[a-z0-9]{32}' },
        ],
      }),
    );
    const key = `acme_${fakeKey('', 64)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 32)}`;
    expect(findKeysInText(`token: ${key}`, custom.keyFormats).map((found) => found.kind)).toEqual([
      'acme-llm-key',
    ]);
    expect(custom.keyVariables.find((variable) => variable.name === 'ACME_LLM_TOKEN')?.provider).toBe('acme');
  });

  it('recognises frameworks, agent CLIs and MCP servers on command lines', () => {
    const analyze = (...argv: string[]) => analyzeCommandLine(argv, catalog.commands);
    expect(analyze('python3', '-m', 'crewai', 'run').matches.map((match) => match.name)).toEqual(['crewai']);
    expect(analyze('python3', '-m', 'crewai', 'run').script).toBe('crewai');
    expect(analyze('/usr/local/bin/claude', '--resume').matches).toEqual([
      { name: 'claude-code', category: 'agent-cli' },
    ]);
    expect(analyze('node', '/opt/app/langgraph_worker.js').label).toBe('langgraph_worker');
    const mcp = analyze('npx', '-y', '@modelcontextprotocol/server-github');
    expect(mcp.mcpServers).toEqual(['server-github']);
    expect(analyze('uvx', 'mcp-server-fetch').mcpServers).toEqual(['mcp-server-fetch']);
    expect(analyze('/usr/bin/github-mcp-server', 'stdio').mcpServers).toEqual(['github-mcp-server']);
    expect(analyze('node', 'server.js').matches).toEqual([]);
    expect(analyze('node', '-e', "require('langchain')", 'worker.js').matches).toEqual([]);
    expect(analyze('vim', 'notes-about-claude.txt').matches).toEqual([]);
  });

  it('redacts secrets on command lines it shows', () => {
    const key = fakeKey('sk-proj-', 40);
    expect(
      redactCommandLine(['agent', '--api-key', 'hunter2', `--token=${key}`, key, 'run'], catalog.keyFormats),
    ).toBe('agent --api-key <redacted> --token=<redacted> <redacted> run');
  });

  it('finds SDK imports in JS/TS, Python and Go, and dependencies in manifests', () => {
    const names = (sightings: { sdk: { name: string } }[]) => sightings.map((sighting) => sighting.sdk.name);
    expect(
      names(
        findSdkImports(
          'a.ts',
          "import OpenAI from 'openai';\nconst { generateText } = require('ai');\nimport { ChatAnthropic } from '@langchain/anthropic';\nimport x from 'openai-like';\nconst m = await import('@modelcontextprotocol/sdk/client/index.js');",
        ),
      ),
    ).toEqual(['openai', 'vercel-ai', 'langchain', 'mcp-sdk']);
    expect(
      names(
        findSdkImports(
          'a.py',
          'import os, anthropic\nfrom llama_index.core import VectorStoreIndex\nimport openaix\n',
        ),
      ),
    ).toEqual(['anthropic', 'llama-index']);
    expect(
      names(
        findSdkImports(
          'm.go',
          'import (\n\t"github.com/anthropics/anthropic-sdk-go/option"\n\t"github.com/tmc/langchaingo/llms"\n)',
        ),
      ),
    ).toEqual(['anthropic-sdk-go', 'langchain']);
    expect(names(findSdkImports('notes.md', "import OpenAI from 'openai'"))).toEqual([]);
    expect(
      names(findSdkDependencies('requirements.txt', 'requests==2\nopenai>=1.0\ncrewai[tools]\n')),
    ).toEqual(['openai', 'crewai']);
    expect(
      names(
        findSdkDependencies(
          'go.mod',
          'module x\nrequire (\n\tgithub.com/sashabaranov/go-openai v1.20.0\n)\n',
        ),
      ),
    ).toEqual(['go-openai']);
  });

  it('reads MCP client configurations of many clients, and reports malformed ones', () => {
    const parse = (path: string, text: string) => {
      const file = mcpClientConfigFor(path);
      if (!file) throw new Error(`no client for ${path}`);
      return parseMcpClientConfig(file, text);
    };
    expect(
      parse(
        'Library/Application Support/Claude/claude_desktop_config.json',
        '{"mcpServers":{"fs":{"command":"npx","args":["-y","@modelcontextprotocol/server-filesystem","/Users/a"]}}}',
      ),
    ).toEqual({
      ok: true,
      client: 'claude-desktop',
      servers: [
        {
          name: 'fs',
          transport: 'stdio',
          target: 'npx @modelcontextprotocol/server-filesystem',
          envNames: [],
        },
      ],
    });
    expect(
      parse('.codex/config.toml', '[mcp_servers.docs]\ncommand = "npx"\nargs = ["-y", "docs-mcp-server"]\n'),
    ).toMatchObject({
      client: 'codex',
      servers: [{ name: 'docs', target: 'npx docs-mcp-server' }],
    });
    expect(
      parse(
        '.continue/config.yaml',
        'mcpServers:\n  - name: search\n    command: uvx\n    args: [mcp-server-search]\n',
      ),
    ).toMatchObject({
      client: 'continue',
      servers: [{ name: 'search', target: 'uvx mcp-server-search' }],
    });
    expect(
      parse(
        '.zed/settings.json',
        '{ "context_servers": { "pg": { "command": { "path": "pg-mcp", "args": [] } } } }',
      ),
    ).toMatchObject({
      client: 'zed',
      servers: [{ name: 'pg', target: 'pg-mcp' }],
    });
    expect(parse('.cursor/mcp.json', '{"mcpServers": {')).toMatchObject({ ok: false, client: 'cursor' });
    expect(mcpClientConfigFor('src/mcp.json.bak')).toBeUndefined();
  });

  it('parses /proc/net/tcp and tcp6, IPv4-mapped addresses included', () => {
    const v4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 20 4 30 10 -1
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 17 1 0000000000000000 100 0 0 10 0`;
    expect(parseTcpTable(v4)).toEqual([
      {
        inode: 4242,
        localAddress: '127.0.0.1',
        localPort: 8080,
        remoteAddress: '127.0.0.1',
        remotePort: 50000,
        state: 'established',
      },
      {
        inode: 17,
        localAddress: '0.0.0.0',
        localPort: 22,
        remoteAddress: '0.0.0.0',
        remotePort: 0,
        state: 'other',
      },
    ]);
    const v6 = `  sl  local_address                         remote_address                        st
   0: 00000000000000000000000001000000:1F90 0000000000000000FFFF00000A01A8C0:01BB 02 00000000:00000000 00:00000000 00000000     0        0 99 1`;
    expect(parseTcpTable(v6)[0]).toMatchObject({
      localAddress: '::1',
      remoteAddress: '192.168.1.10',
      remotePort: 443,
      state: 'syn-sent',
    });
  });

  it('reads CODEOWNERS: the last matching rule wins', () => {
    const rules = parseCodeowners(
      '# comment\n*       @acme/everyone\n/agents/ @acme/ai  @carol\n*.go @gophers\n',
    );
    expect(ownersOf(rules, 'README.md')).toEqual(['@acme/everyone']);
    expect(ownersOf(rules, 'agents/bot.py')).toEqual(['@acme/ai', '@carol']);
    expect(ownersOf(rules, 'agents/main.go')).toEqual(['@gophers']);
  });
});

const finding = (overrides: Partial<Finding> & Pick<Finding, 'kind' | 'subject'>): Finding => ({
  id: `fnd_${Math.random().toString(16).slice(2, 18).padEnd(16, '0')}`,
  source: overrides.subject.type === 'process' ? 'host' : 'path',
  summary: overrides.kind,
  where: 'here',
  when: null,
  weight: 0.5,
  ...overrides,
});

const processSubject = (
  pid: number,
  extra: { ppid?: number; cwd?: string; script?: string; key?: string } = {},
) => ({
  type: 'process' as const,
  key: extra.key ?? `proc_${pid}`,
  pid,
  ppid: extra.ppid ?? 1,
  cwd: extra.cwd ?? '/',
  script: extra.script ?? null,
});

describe('grouping, scoring and the report (pure)', () => {
  it('scores independent evidence higher than repeated evidence', () => {
    const subject = { type: 'project' as const, root: '/r', marked: true };
    const one = [finding({ kind: 'sdk-import', subject, weight: 0.5, provider: 'openai' })];
    const repeated = [...one, finding({ kind: 'sdk-import', subject, weight: 0.5, provider: 'openai' })];
    const independent = [
      ...one,
      finding({ kind: 'provider-key-env', subject, weight: 0.6, provider: 'openai' }),
    ];
    expect(confidenceOf(one)).toBe(0.5);
    expect(confidenceOf(repeated)).toBe(0.5);
    expect(confidenceOf(independent)).toBe(0.8);
  });

  it('puts a process running code from a scanned project into that project', () => {
    const project = { type: 'project' as const, root: '/srv/bots/invoice', marked: true };
    const candidates = groupCandidates(
      [
        finding({ kind: 'sdk-import', subject: project, provider: 'openai', hints: { names: ['invoice'] } }),
        finding({
          kind: 'provider-key-env',
          subject: processSubject(10, { cwd: '/srv/bots/invoice', script: '/srv/bots/invoice/main.py' }),
          provider: 'openai',
          weight: 0.6,
        }),
        finding({
          kind: 'provider-key-env',
          subject: processSubject(11, { cwd: '/home/x' }),
          provider: 'anthropic',
        }),
      ],
      'host-a',
    );
    const shape = candidates.map((candidate) => [candidate.kind, candidate.pids]).sort();
    expect(shape).toEqual([
      ['process', [11]],
      ['project', [10]],
    ]);
    // Ids are stable across runs; the same path on another host is another candidate.
    const projectId = candidates.find((candidate) => candidate.kind === 'project')?.id;
    expect(groupCandidates([finding({ kind: 'sdk-import', subject: project })], 'host-a')[0]?.id).toBe(
      projectId,
    );
    expect(groupCandidates([finding({ kind: 'sdk-import', subject: project })], 'host-b')[0]?.id).not.toBe(
      projectId,
    );
  });

  it('matches candidates with the registry and leads with the numbers', () => {
    const registry: RegisteredAgentSnapshot[] = [
      {
        id: 'agt_a',
        name: 'invoice-bot',
        labels: {},
        reviewStatus: 'approved',
        state: 'active',
        manifestDigest: null,
        llmProviders: [],
      },
      {
        id: 'agt_b',
        name: 'triage',
        labels: { 'discovery/path': '/srv/triage' },
        reviewStatus: 'unreviewed',
        state: 'active',
        manifestDigest: null,
        llmProviders: [],
      },
      {
        id: 'agt_c',
        name: 'old-bot',
        labels: {},
        reviewStatus: 'approved',
        state: 'retired',
        manifestDigest: null,
        llmProviders: [],
      },
    ];
    const project = (root: string, name: string) =>
      finding({
        kind: 'sdk-import',
        subject: { type: 'project', root, marked: true },
        hints: { names: [name], paths: [root] },
      });
    const report = buildReport({
      findings: [
        project('/srv/invoice-bot', 'invoice-bot'),
        project('/srv/triage', 'triage-v2'),
        project('/srv/old-bot', 'old-bot'),
        project('/srv/shadow', 'shadow'),
      ],
      registry,
      stats: emptyScanStats(),
      scope: { host: false, pids: null, paths: ['/srv'], logs: [], traffic: false },
      host: 'h',
      now: Date.UTC(2026, 0, 1),
    });
    expect(report.headline).toBe('4 agents found: 1 approved, 1 registered and not approved, 2 unknown');
    expect(report.summary).toMatchObject({
      found: 4,
      registered: 2,
      approved: 1,
      unknown: 2,
      registry: { agents: 2, approved: 1 },
    });
    expect(
      report.candidates.map((candidate) => [
        candidate.name,
        candidate.registry.status,
        candidate.registry.matchedBy,
      ]),
    ).toEqual([
      ['old-bot', 'unknown', null],
      ['shadow', 'unknown', null],
      ['triage-v2', 'registered', 'path'],
      ['invoice-bot', 'approved', 'name'],
    ]);
    const text = renderReport(report);
    expect(text.split('\n')[0]).toBe(report.headline);
    expect(text).toContain('registry: 2 agents, 1 approved');
  });

  it('turns LLM-gateway and egress records into unregistered callers and off-manifest providers', () => {
    const registry: RegisteredAgentSnapshot[] = [
      {
        id: 'agt_ok',
        name: 'writer',
        labels: {},
        reviewStatus: 'approved',
        state: 'active',
        manifestDigest: null,
        llmProviders: ['openai'],
      },
    ];
    const traffic = createTrafficAccumulator(registry, catalog.endpoints);
    const entry = (seq: number, actor: string, action: string, details: Record<string, unknown>) =>
      traffic.add({ seq, time: `2026-01-01T00:00:0${seq}.000Z`, actor, action, details });
    entry(1, 'agent:agt_ok', 'llm.request.decided', { tool: 'llm.openai.chat' });
    entry(2, 'agent:agt_ok', 'llm.request.decided', { tool: 'llm.anthropic.messages' });
    entry(3, 'agent:agt_ok', 'llm.request.completed', { provider: 'anthropic' });
    entry(4, 'agent:agt_ok', 'egress.request.completed', { host: 'api.mistral.ai', port: 443 });
    entry(5, 'system', 'llm.request.refused', { provider: 'openai', code: 'invalid_token', ip: '10.1.2.3' });
    entry(6, 'system', 'llm.request.refused', { provider: 'openai', code: 'invalid_token', ip: '10.1.2.3' });
    entry(7, 'agent:agt_gone', 'egress.request.decided', { tool: 'http.request' });
    entry(8, 'admin:x', 'agent.registered', {});
    const found = traffic.findings();
    expect(
      found.map((item) => [
        item.kind,
        item.subject.type === 'caller' ? item.subject.key : item.provider,
        item.where,
      ]),
    ).toEqual([
      ['unexpected-provider', 'anthropic', 'audit #2..#3'],
      ['unexpected-provider', 'mistral', 'audit #4'],
      ['unregistered-caller', '10.1.2.3', 'audit #5..#6'],
      ['unregistered-caller', 'agt_gone', 'audit #7'],
    ]);
    expect(found[0]?.summary).toContain('(1 request)');
    expect(found[2]?.summary).toContain('2 requests');
    expect(found[2]?.summary).toContain('refused: invalid_token');
  });
});
