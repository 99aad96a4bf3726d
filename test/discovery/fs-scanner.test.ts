import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Candidate,
  createCatalog,
  defaultDiscoveryConfig,
  type Finding,
  groupCandidates,
  type PathScan,
  scanPaths,
} from '../../src/discovery/index.js';
import { scanAsUnprivileged } from './support/as-user.js';
import { fakeKey } from './support/processes.js';
import { commitAs, initRepo, writeTree } from './support/repos.js';

const catalog = createCatalog(defaultDiscoveryConfig());
const ALICE = 'Alice Dev <alice@example.com>';
const BOB = 'Bob Builder <bob@example.com>';

describe('filesystem scanner (real repositories)', () => {
  let base: string;
  let repo: string;
  let outside: string;
  const keys = {
    anthropic: fakeKey('sk-ant-api03-', 60),
    google: fakeKey('AIza', 35),
    ignored: fakeKey('sk-proj-', 48),
    binary: fakeKey('sk-proj-', 48),
    huge: fakeKey('sk-proj-', 48),
    outside: fakeKey('sk-proj-', 48),
  };

  let result: PathScan;
  let candidates: Candidate[];

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'gatehouse-fs-'));
    repo = join(base, 'support-bot');
    outside = join(base, 'elsewhere');
    await initRepo(repo);
    await writeTree(repo, {
      '.gitignore': '.env\ngenerated/\n*.log\n',
      '.github/CODEOWNERS': '# owners\n* @acme/platform\n/py/ @acme/ml-team\n',
      'package.json': JSON.stringify({
        name: '@acme/support-bot',
        dependencies: { openai: '^6.0.0', '@modelcontextprotocol/sdk': '^1.0.0', lodash: '^4' },
      }),
      'src/bot.ts': `import OpenAI from 'openai';\nimport Anthropic from '@anthropic-ai/sdk';\nconst fallback = '${keys.anthropic}';\n`,
      'py/agent.py': 'import os\nfrom langchain_openai import ChatOpenAI\nimport crewai\n',
      'go/main.go': 'package main\n\nimport (\n\t"fmt"\n\topenai "github.com/sashabaranov/go-openai"\n)\n',
      '.cursor/mcp.json': JSON.stringify({
        mcpServers: {
          github: {
            command: 'npx',
            args: ['-y', '@modelcontextprotocol/server-github'],
            env: { GITHUB_TOKEN: 'x' },
          },
        },
      }),
      '.vscode/mcp.json': `{
        // VS Code allows comments
        "servers": {
          "files": { "type": "stdio", "command": "npx", "args": ["@modelcontextprotocol/server-filesystem", "/srv"] },
          "tickets": { "type": "http", "url": "https://mcp.example.com/tickets?token=secret" },
        },
      }`,
      'config/settings.yaml': `google:\n  api_key: "${keys.google}"\n`,
      'gatehouse-agent.yaml': 'name: support-bot\nmanifest:\n  llmProviders: [openai]\n  tools: [github.*]\n',
      '.env': `OPENAI_API_KEY=${keys.ignored}\n`,
      'generated/client.ts': "import OpenAI from 'openai';\n",
      'docs/setup.md': 'Set OPENAI_API_KEY=sk-your-key-here or sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxx.\n',
      'assets/logo.bin': Buffer.concat([Buffer.from([0x89, 0x50, 0x00, 0x01]), Buffer.from(keys.binary)]),
      'data/huge.txt': `${'x'.repeat(70_000)}\n${keys.huge}\n`,
      'broken/mcp.json': '{ "mcpServers": { oops',
      'tools/helper/pyproject.toml':
        '[project]\nname = "triage-helper"\ndependencies = ["anthropic>=0.40"]\n',
      'tools/helper/triage.py': 'import anthropic\n',
    });
    await writeTree(outside, { 'keys.txt': `${keys.outside}\n` });
    await symlink('.', join(repo, 'loop'));
    await symlink('self', join(repo, 'self'));
    await symlink(outside, join(repo, 'outside'));
    await symlink(join(repo, 'does-not-exist'), join(repo, 'dangling'));
    await symlink(join(repo, 'src', 'bot.ts'), join(repo, 'bot-link.ts'));
    await commitAs(repo, ALICE, 'support bot', [
      '.gitignore',
      '.github',
      'package.json',
      'src',
      'py',
      'config',
    ]);
    await commitAs(repo, BOB, 'go port', ['go']);
    await commitAs(repo, BOB, 'the rest');
    result = await scan([repo]);
    candidates = groupCandidates(result.findings, 'test-host');
  });
  afterAll(async () => rm(base, { recursive: true, force: true }));

  const scan = (paths: string[], options: Partial<Parameters<typeof scanPaths>[0]> = {}) =>
    scanPaths({ catalog, paths, maxFileBytes: 64 * 1024, ...options });

  const byKind = (findings: Finding[]) =>
    findings.map((finding) => `${finding.kind} ${finding.where.replace(`${repo}/`, '')}`).sort();

  it('finds SDK imports and dependencies, MCP configs, planted keys and the manifest', () => {
    expect(byKind(result.findings)).toEqual([
      'agent-manifest gatehouse-agent.yaml',
      'hardcoded-key config/settings.yaml:2',
      'hardcoded-key src/bot.ts:3',
      'mcp-client-config .cursor/mcp.json',
      'mcp-client-config .vscode/mcp.json',
      'sdk-dependency package.json:1',
      'sdk-dependency package.json:1',
      'sdk-dependency tools/helper/pyproject.toml:3',
      'sdk-import go/main.go:5',
      'sdk-import py/agent.py:2',
      'sdk-import py/agent.py:3',
      'sdk-import src/bot.ts:1',
      'sdk-import src/bot.ts:2',
      'sdk-import tools/helper/triage.py:1',
    ]);
    const cursor = result.findings.find((finding) => finding.where.endsWith('.cursor/mcp.json'));
    expect(cursor).toMatchObject({ framework: 'cursor', mcpServers: ['github'] });
    expect(cursor?.summary).toContain('npx @modelcontextprotocol/server-github');
    const vscode = result.findings.find((finding) => finding.where.endsWith('.vscode/mcp.json'));
    expect(vscode?.mcpServers).toEqual(['files', 'tickets']);
    // URLs lose their query strings (tokens live there) and env values are never read into a finding.
    expect(vscode?.summary).toContain('https://mcp.example.com/tickets');
    expect(JSON.stringify(result.findings)).not.toContain('token=secret');
    const google = result.findings.find((finding) => finding.key?.provider === 'google');
    expect(google?.key).toMatchObject({ kind: 'google-api-key' });
    expect(google?.key?.fingerprint).toMatch(/^[0-9a-f]{8}$/);
  });

  it('never prints a key, and skips ignored, binary, huge and outside files', () => {
    const text = JSON.stringify(result);
    for (const key of Object.values(keys)) expect(text).not.toContain(key);
    expect(result.findings.some((finding) => finding.where.includes('generated/'))).toBe(false);
    expect(result.findings.some((finding) => finding.where.includes('.env'))).toBe(false);
    expect(result.stats.files).toMatchObject({
      binary: 1,
      tooLarge: 1,
      malformed: 1,
      symlinkOutside: 1,
      brokenSymlink: 1,
      truncated: false,
    });
    // `loop` points at the repository itself; `self` at itself (the kernel says ELOOP).
    expect(result.stats.files.symlinkLoop).toBe(2);
    expect(result.stats.files.ignored).toBeGreaterThanOrEqual(3); // .git, .env, generated/
    const reasons = result.stats.examples.map(
      (example) => `${example.reason}: ${example.where.replace(`${repo}/`, '')}`,
    );
    expect(reasons).toEqual(
      expect.arrayContaining([
        'binary: assets/logo.bin',
        'larger than 65536 bytes: data/huge.txt',
        'malformed mcp-client MCP configuration: broken/mcp.json',
        'symlink leads outside the scanned paths: outside',
        'symlink loop: loop',
        'symlink loop: self',
        'broken symlink: dangling',
      ]),
    );
    // A link inside the tree to a file already scanned is not scanned twice.
    expect(result.findings.filter((finding) => finding.where.includes('bot.ts:3'))).toHaveLength(1);
  });

  it('groups findings by project and suggests owners from CODEOWNERS', () => {
    expect(candidates.map((candidate) => candidate.name).sort()).toEqual(['support-bot', 'triage-helper']);
    const bot = candidates.find((candidate) => candidate.name === 'support-bot');
    expect(bot).toMatchObject({ kind: 'project', level: 'high', paths: [repo] });
    expect(bot?.providers).toEqual(['anthropic', 'google', 'openai']);
    expect(bot?.frameworks).toEqual(expect.arrayContaining(['crewai', 'cursor', 'langchain', 'vscode']));
    expect(bot?.mcpServers).toEqual(['files', 'github', 'tickets']);
    expect(bot?.owner).toEqual({ owner: '@acme/platform', source: 'codeowners' });
    const py = result.findings.find((finding) => finding.where.includes('py/agent.py'));
    expect(py?.owners).toContainEqual({ owner: '@acme/ml-team', source: 'codeowners' });
    expect(py?.owners).toContainEqual({ owner: ALICE, source: 'git' });
    const go = result.findings.find((finding) => finding.where.includes('go/main.go'));
    expect(go?.owners).toContainEqual({ owner: BOB, source: 'git' });
    const helper = candidates.find((candidate) => candidate.name === 'triage-helper');
    expect(helper?.paths).toEqual([join(repo, 'tools', 'helper')]);
  });

  it('falls back to the most frequent git author without CODEOWNERS', async () => {
    const plain = join(base, 'plain-repo');
    await initRepo(plain);
    await writeTree(plain, { 'agent.py': 'import anthropic\n' });
    await commitAs(plain, ALICE, 'first');
    await writeTree(plain, { 'agent.py': 'import anthropic\nimport openai\n' });
    await commitAs(plain, BOB, 'second');
    await writeTree(plain, { 'agent.py': 'import anthropic\nimport openai\nimport mcp\n' });
    await commitAs(plain, BOB, 'third');
    const [candidate] = groupCandidates((await scan([plain])).findings, 'test-host');
    expect(candidate?.owner).toEqual({ owner: BOB, source: 'git' });
    expect(candidate?.name).toBe('plain-repo');
  });

  it('finds nothing in a clean tree', async () => {
    const clean = join(base, 'clean');
    await initRepo(clean);
    await writeTree(clean, {
      'package.json': JSON.stringify({ name: 'ledger', dependencies: { lodash: '^4', express: '^5' } }),
      'src/index.ts': "import { readFile } from 'node:fs/promises';\nimport express from 'express';\n",
      'README.md': '# ledger\nNo AI here. The word openai in prose is not an import.\n',
      'tool.py': 'import json\nfrom pathlib import Path\n',
      '.vscode/settings.json': '{ "editor.tabSize": 2 }',
    });
    await commitAs(clean, ALICE, 'ledger');
    const clear = await scan([clean]);
    expect(clear.findings).toEqual([]);
    expect(clear.stats.files.scanned).toBe(5);
  });

  it('counts unreadable files and directories and goes on (as an unprivileged user)', async () => {
    const locked = join(base, 'locked');
    await writeTree(locked, {
      'open/agent.py': 'import openai\n',
      'secret/agent.py': 'import anthropic\n',
      'closed.py': 'import mistralai\n',
    });
    await chmod(base, 0o755);
    await chmod(locked, 0o755);
    await chmod(join(locked, 'open'), 0o755);
    await chmod(join(locked, 'open', 'agent.py'), 0o644);
    await chmod(join(locked, 'secret'), 0o000);
    await chmod(join(locked, 'closed.py'), 0o000);
    const seen = await scanAsUnprivileged<PathScan>({ mode: 'paths', paths: [locked] });
    expect(seen.findings.map((finding) => finding.where.replace(`${locked}/`, ''))).toEqual([
      'open/agent.py:1',
    ]);
    expect(seen.stats.files.unreadable).toBe(2);
    await chmod(join(locked, 'secret'), 0o755);
  });

  it('reports a missing path instead of failing, and stops at maxFiles', async () => {
    const missing = await scan([join(base, 'nope'), repo], { maxFiles: 3, owners: false });
    expect(missing.missing).toEqual([join(base, 'nope')]);
    expect(missing.stats.files.truncated).toBe(true);
    expect(missing.stats.files.scanned).toBe(3);
  });

  it('applies configured exclusions and nested .gitignore files', async () => {
    await mkdir(join(repo, 'vendor-ish'), { recursive: true });
    await writeFile(join(repo, 'vendor-ish', '.gitignore'), 'copied.ts\n');
    await writeFile(join(repo, 'vendor-ish', 'copied.ts'), "import 'openai';\n");
    await writeFile(join(repo, 'vendor-ish', 'kept.ts'), "import '@google/genai';\n");
    const scanned = await scan([repo], { exclude: ['py/', 'go/*.go'], owners: false });
    const where = scanned.findings.map((finding) => finding.where.replace(`${repo}/`, ''));
    expect(where).toContain('vendor-ish/kept.ts:1');
    expect(where).not.toContain('vendor-ish/copied.ts:1');
    expect(where.some((path) => path.startsWith('py/') || path.startsWith('go/'))).toBe(false);
    await rm(join(repo, 'vendor-ish'), { recursive: true });
  });

  it('reports progress on long scans', async () => {
    const many = join(base, 'many');
    const files: Record<string, string> = {};
    for (let index = 0; index < 450; index += 1)
      files[`pkg${index % 9}/file${index}.txt`] = `line ${index}\n`;
    await writeTree(many, files);
    const progress: { phase: string; done: number }[] = [];
    await scan([many], { onProgress: (event) => progress.push(event), owners: false });
    expect(progress.map((event) => `${event.phase} ${event.done}`)).toEqual(['files 200', 'files 400']);
  });
});
