import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCatalog,
  defaultDiscoveryConfig,
  groupCandidates,
  type ProcessScan,
  resolveEndpoints,
  scanProcesses,
} from '../../src/discovery/index.js';
import { runningAsRoot, scanAsUnprivileged } from './support/as-user.js';
import { fakeKey, IDLE, startChild, stopAllChildren, type TestChild } from './support/processes.js';

const EVERYTHING = join(process.cwd(), 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');

describe('process scanner (real processes under /proc)', () => {
  let workdir: string;
  let agent: TestChild;
  let clean: TestChild;
  const openaiKey = fakeKey('sk-proj-', 48);
  const anthropicKey = fakeKey('sk-ant-api03-', 60);

  beforeAll(async () => {
    workdir = await mkdtemp(join(tmpdir(), 'gatehouse-proc-'));
    agent = await startChild(process.execPath, ['-e', IDLE, 'langchain-agent.js'], {
      env: { OPENAI_API_KEY: openaiKey, ANTHROPIC_API_KEY: anthropicKey, HOME: workdir },
      cwd: workdir,
      waitFor: 'ready',
    });
    clean = await startChild(process.execPath, ['-e', IDLE, 'report-job.js'], {
      cwd: workdir,
      waitFor: 'ready',
    });
  });
  afterAll(async () => {
    await stopAllChildren();
    await rm(workdir, { recursive: true, force: true });
  });

  const catalog = createCatalog(defaultDiscoveryConfig());

  it('finds provider keys in the environment and the framework on the command line, by pid', async () => {
    const { findings, stats } = await scanProcesses({ catalog, pids: [agent.pid] });
    expect(stats.processes.seen).toBe(1);
    const kinds = findings
      .map((finding) => `${finding.kind}:${finding.provider ?? finding.framework}`)
      .sort();
    expect(kinds).toEqual([
      'agent-framework-process:langchain',
      'provider-key-env:anthropic',
      'provider-key-env:openai',
    ]);
    const openai = findings.find((finding) => finding.provider === 'openai');
    expect(openai?.key).toMatchObject({ kind: 'openai-project-key', provider: 'openai' });
    expect(openai?.key?.fingerprint).toMatch(/^[0-9a-f]{8}$/);
    expect(openai?.summary).toContain('OPENAI_API_KEY');
    expect(openai?.where).toContain(`pid ${agent.pid}`);
    expect(openai?.when).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The key itself is never in a finding.
    const text = JSON.stringify(findings);
    expect(text).not.toContain(openaiKey);
    expect(text).not.toContain(anthropicKey);
    expect(text).not.toContain(openaiKey.slice(8, 20));

    const [candidate, ...others] = groupCandidates(findings, 'test-host');
    expect(others).toEqual([]);
    expect(candidate).toMatchObject({
      kind: 'process',
      name: 'langchain-agent',
      pids: [agent.pid],
      level: 'high',
    });
    expect(candidate?.providers).toEqual(['anthropic', 'openai']);
    expect(candidate?.owner?.source).toBe('process-user');
  });

  it('finds nothing in a clean process set', async () => {
    const { findings, stats } = await scanProcesses({ catalog, pids: [clean.pid] });
    expect(stats.processes.seen).toBe(1);
    expect(findings).toEqual([]);
  });

  it('counts AWS keys only with a Bedrock hint', async () => {
    const accessKey = `AKIA${fakeKey('', 16)
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, 'Q')}`;
    const bedrock = await startChild(process.execPath, ['-e', IDLE, 'summarizer.js'], {
      env: { AWS_ACCESS_KEY_ID: accessKey, BEDROCK_MODEL_ID: 'anthropic.claude-3-haiku' },
      waitFor: 'ready',
    });
    const plainAws = await startChild(process.execPath, ['-e', IDLE, 'backup.js'], {
      env: { AWS_ACCESS_KEY_ID: accessKey },
      waitFor: 'ready',
    });
    const { findings } = await scanProcesses({ catalog, pids: [bedrock.pid, plainAws.pid] });
    expect(
      findings.map((finding) => [
        finding.subject.type === 'process' && finding.subject.pid,
        finding.provider,
      ]),
    ).toEqual([[bedrock.pid, 'bedrock']]);
    expect(JSON.stringify(findings)).not.toContain(accessKey);
    await bedrock.stop();
    await plainAws.stop();
  });

  it('finds a real MCP server process and files it under the client that spawned it', async () => {
    const standalone = await startChild(process.execPath, [EVERYTHING, 'stdio']);
    const client = await startChild(
      process.execPath,
      [
        '-e',
        `const { spawn } = require('node:child_process');
         const server = spawn(process.execPath, [${JSON.stringify(EVERYTHING)}, 'stdio'], { stdio: 'pipe' });
         console.log('server ' + server.pid);
         setTimeout(() => {}, 60000);`,
        'crewai-runner.py',
      ],
      { env: { GEMINI_API_KEY: fakeKey('', 39) }, waitFor: 'server ' },
    );
    const serverPid = Number(/server (\d+)/.exec(client.output())?.[1]);
    // The MCP server needs a moment to exec; scan once its command line is there.
    let scan = await scanProcesses({ catalog, pids: [standalone.pid, client.pid, serverPid] });
    for (
      let tries = 0;
      tries < 40 && scan.findings.filter((f) => f.kind === 'mcp-server-process').length < 2;
      tries++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      scan = await scanProcesses({ catalog, pids: [standalone.pid, client.pid, serverPid] });
    }
    const servers = scan.findings.filter((finding) => finding.kind === 'mcp-server-process');
    expect(servers.map((finding) => finding.mcpServers)).toEqual([
      ['server-everything'],
      ['server-everything'],
    ]);
    const candidates = groupCandidates(scan.findings, 'test-host');
    expect(candidates).toHaveLength(2);
    const spawned = candidates.find((candidate) => candidate.pids.includes(client.pid));
    expect(spawned?.pids).toEqual([client.pid, serverPid].sort((a, b) => a - b));
    expect(spawned?.frameworks).toEqual(['crewai']);
    expect(spawned?.mcpServers).toEqual(['server-everything']);
    expect(spawned?.providers).toEqual(['google']);
    const alone = candidates.find((candidate) => candidate.pids.includes(standalone.pid));
    expect(alone).toMatchObject({ name: 'server-everything', level: 'low' });
    await client.stop();
    await standalone.stop();
  });

  it('sees a TCP connection to a provider endpoint configured by address and port', async () => {
    const server: Server = createServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const caller = await startChild(
      process.execPath,
      [
        '-e',
        `const s = require('node:net').connect(${port}, '127.0.0.1', () => console.log('connected'));
         setTimeout(() => {}, 60000);`,
        'ticket-triage.js',
      ],
      { waitFor: 'connected' },
    );
    const config = defaultDiscoveryConfig({
      providers: [{ name: 'internal-llm', addresses: ['127.0.0.0/8'], ports: [port] }],
      resolveHosts: false,
    });
    const custom = createCatalog(config);
    const { endpoints } = await resolveEndpoints(custom.endpoints, { resolveHosts: false });
    const { findings } = await scanProcesses({ catalog: custom, endpoints, pids: [caller.pid, clean.pid] });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ kind: 'provider-connection', provider: 'internal-llm' });
    expect(findings[0]?.summary).toContain(`127.0.0.1:${port}`);
    // Another port on the same address is not that provider.
    const elsewhere = createCatalog(
      defaultDiscoveryConfig({
        providers: [{ name: 'internal-llm', addresses: ['127.0.0.1'], ports: [port + 1] }],
      }),
    );
    const other = await resolveEndpoints(elsewhere.endpoints, { resolveHosts: false });
    expect(
      (await scanProcesses({ catalog: elsewhere, endpoints: other.endpoints, pids: [caller.pid] })).findings,
    ).toEqual([]);
    await caller.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  it('survives processes that vanish or never existed, and scans everything it may read', async () => {
    const gone = await startChild(process.execPath, ['-e', IDLE], { waitFor: 'ready' });
    const pid = gone.pid;
    await gone.stop();
    const { findings, stats } = await scanProcesses({ catalog, pids: [pid, 999_999_999] });
    expect(findings).toEqual([]);
    expect(stats.processes.seen).toBe(0);
    // A whole-host scan (our own test children among whatever else runs here) completes and sees them.
    const all = await scanProcesses({ catalog });
    expect(all.stats.processes.seen).toBeGreaterThan(1);
    expect(
      all.findings.some((finding) => finding.subject.type === 'process' && finding.subject.pid === agent.pid),
    ).toBe(true);
    expect(
      all.findings.some(
        (finding) => finding.subject.type === 'process' && finding.subject.pid === process.pid,
      ),
    ).toBe(false);
  });

  it("counts other users' unreadable environments and sockets, and still reads their command lines", async () => {
    if (!runningAsRoot) return; // as another user already, our own children are readable: nothing to prove
    const seen = await scanAsUnprivileged<ProcessScan>({ mode: 'processes', pids: [agent.pid] });
    expect(seen.stats.processes).toMatchObject({ seen: 1, environUnreadable: 1, fdUnreadable: 1 });
    expect(seen.findings.map((finding) => finding.kind)).toEqual(['agent-framework-process']);
  });
});
