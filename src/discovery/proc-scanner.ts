import { readdir, readFile, readlink } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { DiscoveryCatalog } from './catalog.js';
import { analyzeCommandLine } from './command-line.js';
import { matchEndpoint, type ResolvedEndpoint } from './endpoints.js';
import { fingerprintSecret, stableId } from './fingerprint.js';
import { findKeysInText, keyFormatOf } from './key-formats.js';
import { redactCommandLine } from './redact.js';
import { parseTcpTable, type TcpSocket } from './tcp-table.js';
import {
  emptyScanStats,
  type Finding,
  type FindingSubject,
  noteSkipped,
  type ProgressListener,
  type ScanStats,
} from './types.js';

export interface ProcessScanOptions {
  catalog: DiscoveryCatalog;
  /** Provider endpoints with names resolved (see `resolveEndpoints`); none means no connection findings. */
  endpoints?: readonly ResolvedEndpoint[];
  /** Where procfs is mounted. */
  procRoot?: string;
  /** Only these processes (e.g. `--pid`); every readable process otherwise. */
  pids?: readonly number[];
  /** Never these (by default the scanning process itself). */
  excludePids?: readonly number[];
  hostname?: string;
  onProgress?: ProgressListener;
}

export interface ProcessScan {
  findings: Finding[];
  stats: ScanStats;
}

interface ProcessFacts {
  pid: number;
  ppid: number | null;
  argv: string[];
  uid: number | null;
  user: string | null;
  cwd: string | null;
  exe: string | null;
  startedAt: string | null;
  env: Map<string, string> | null;
  socketInodes: number[] | null;
}

const CLOCK_TICKS = 100; // USER_HZ: 100 on every Linux architecture Node runs on

/**
 * Looks at every process this user may read (Linux procfs): provider keys in the environment, agent frameworks
 * and MCP servers on the command line, and TCP connections to provider endpoints. What cannot be read is
 * counted, never fatal.
 */
export async function scanProcesses(options: ProcessScanOptions): Promise<ProcessScan> {
  const procRoot = options.procRoot ?? '/proc';
  const stats = emptyScanStats();
  const findings: Finding[] = [];
  const host = options.hostname ?? osHostname();
  const exclude = new Set(options.excludePids ?? [process.pid]);
  let pids: number[];
  try {
    pids = options.pids
      ? [...options.pids]
      : (await readdir(procRoot)).filter((name) => /^\d+$/.test(name)).map(Number);
  } catch {
    noteSkipped(stats, 'procfs unreadable', procRoot);
    return { findings, stats };
  }
  pids = pids.filter((pid) => !exclude.has(pid));
  const [sockets, bootTime, users] = await Promise.all([
    readSockets(procRoot),
    readBootTime(procRoot),
    readUsers(),
  ]);
  const endpoints = options.endpoints ?? [];
  let done = 0;
  for (let start = 0; start < pids.length; start += 16) {
    const batch = pids.slice(start, start + 16);
    const facts = await Promise.all(batch.map((pid) => readProcess(procRoot, pid, bootTime, users, stats)));
    for (const process of facts) {
      if (!process) continue;
      stats.processes.seen += 1;
      const found = findingsOf(process, options.catalog, endpoints, sockets, host);
      if (found.length > 0) stats.processes.matched += 1;
      findings.push(...found);
    }
    done += batch.length;
    options.onProgress?.({ phase: 'processes', done, total: pids.length });
  }
  return { findings, stats };
}

async function readProcess(
  procRoot: string,
  pid: number,
  bootTime: number | null,
  users: Map<number, string>,
  stats: ScanStats,
): Promise<ProcessFacts | undefined> {
  const dir = join(procRoot, String(pid));
  let argv: string[];
  let statText: string;
  try {
    argv = (await readFile(join(dir, 'cmdline'), 'utf8')).split('\0');
    statText = await readFile(join(dir, 'stat'), 'utf8');
  } catch (error) {
    if (isGone(error)) stats.processes.vanished += 1;
    else noteSkipped(stats, 'process unreadable', `pid ${pid}`);
    return undefined;
  }
  while (argv.length > 0 && argv.at(-1) === '') argv.pop();
  if (argv.length === 0) return undefined; // a kernel thread or a zombie: nothing to see
  // The command name may hold spaces and parentheses: fields start after the last `)`.
  const fields = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  const startTicks = Number(fields[19]);
  const startedAt =
    bootTime !== null && Number.isFinite(startTicks)
      ? new Date((bootTime + startTicks / CLOCK_TICKS) * 1000).toISOString()
      : null;
  const uid = await readFile(join(dir, 'status'), 'utf8')
    .then((status) => Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN))
    .catch(() => Number.NaN);
  let env: Map<string, string> | null = null;
  try {
    env = new Map();
    for (const entry of (await readFile(join(dir, 'environ'), 'utf8')).split('\0')) {
      const at = entry.indexOf('=');
      if (at > 0) env.set(entry.slice(0, at), entry.slice(at + 1));
    }
  } catch (error) {
    env = null;
    if (isGone(error)) {
      stats.processes.vanished += 1;
      return undefined;
    }
    stats.processes.environUnreadable += 1;
    noteSkipped(stats, 'environment unreadable', `pid ${pid}`);
  }
  let socketInodes: number[] | null = null;
  try {
    const fds = await readdir(join(dir, 'fd'));
    const links = await Promise.all(fds.map((fd) => readlink(join(dir, 'fd', fd)).catch(() => '')));
    socketInodes = links.flatMap((link) => {
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      return inode ? [Number(inode)] : [];
    });
  } catch (error) {
    if (!isGone(error)) stats.processes.fdUnreadable += 1;
  }
  return {
    pid,
    ppid: Number.isInteger(ppid) ? ppid : null,
    argv,
    uid: Number.isInteger(uid) ? uid : null,
    user: Number.isInteger(uid) ? (users.get(uid) ?? `uid ${uid}`) : null,
    cwd: await readlink(join(dir, 'cwd')).catch(() => null),
    exe: await readlink(join(dir, 'exe')).catch(() => null),
    startedAt,
    env,
    socketInodes,
  };
}

function findingsOf(
  process: ProcessFacts,
  catalog: DiscoveryCatalog,
  endpoints: readonly ResolvedEndpoint[],
  sockets: Map<number, TcpSocket>,
  host: string,
): Finding[] {
  const command = analyzeCommandLine(process.argv, catalog.commands);
  const script =
    command.script && process.cwd && !isAbsolute(command.script) && /[./]/.test(command.script)
      ? resolve(process.cwd, command.script)
      : command.script;
  const subject: FindingSubject = {
    type: 'process',
    key: stableId('proc', [host, String(process.uid), process.exe ?? '', process.cwd ?? '', ...process.argv]),
    pid: process.pid,
    ppid: process.ppid,
    cwd: process.cwd,
    script,
  };
  const shown = redactCommandLine(process.argv, catalog.keyFormats, 80);
  const where = `pid ${process.pid} (${shown})`;
  const base = {
    source: 'host' as const,
    where,
    when: process.startedAt,
    subject,
    owners: process.user ? [{ owner: process.user, source: 'process-user' as const }] : [],
    hints: {
      names: [command.mcpServers[0] ?? command.label],
      paths: [process.cwd, script].filter((path): path is string => !!path && isAbsolute(path)),
    },
  };
  const findings: Finding[] = [];
  const id = (...parts: string[]) => stableId('fnd', [subject.key, ...parts], 16);

  if (process.env) {
    const context = `${[...process.env.keys()].join(' ')} ${process.argv.join(' ')}`;
    const seen = new Set<string>();
    for (const [name, value] of process.env) {
      if (value.trim() === '') continue;
      const variable = catalog.keyVariables.find((candidate) => candidate.name === name);
      const format = keyFormatOf(value, catalog.keyFormats);
      if (variable?.requiresHint && !variable.requiresHint.test(context)) continue;
      if (!variable && !format) continue;
      const provider = variable?.provider ?? format?.provider ?? 'unknown';
      const kind = format?.kind ?? `${provider}-key`;
      const fingerprint = fingerprintSecret(value);
      if (seen.has(`${name}:${fingerprint}`)) continue;
      seen.add(`${name}:${fingerprint}`);
      findings.push({
        ...base,
        id: id('env', name, fingerprint),
        kind: 'provider-key-env',
        summary: `${name} holds ${article(provider)} ${provider} key (${kind}, fp ${fingerprint})`,
        weight: 0.6,
        provider,
        key: { kind, provider, fingerprint },
      });
    }
  }
  for (const match of findKeysInText(process.argv.join('\n'), catalog.keyFormats)) {
    findings.push({
      ...base,
      id: id('argv-key', match.fingerprint),
      kind: 'hardcoded-key',
      summary: `${article(match.provider)} ${match.provider} key on the command line (${match.kind}, fp ${match.fingerprint})`,
      weight: 0.5,
      provider: match.provider,
      key: { kind: match.kind, provider: match.provider, fingerprint: match.fingerprint },
    });
  }
  for (const match of command.matches) {
    if (match.category === 'mcp-server') {
      const servers = command.mcpServers.length > 0 ? command.mcpServers : [command.label];
      findings.push({
        ...base,
        id: id('mcp-server', servers.join(',')),
        kind: 'mcp-server-process',
        summary: `MCP server ${servers.join(', ')} running`,
        weight: 0.4,
        mcpServers: servers,
      });
    } else {
      findings.push({
        ...base,
        id: id('framework', match.name),
        kind: 'agent-framework-process',
        summary: `${match.category === 'agent-cli' ? 'agent CLI' : 'agent framework'} ${match.name} on the command line`,
        weight: match.category === 'agent-cli' ? 0.8 : 0.7,
        framework: match.name,
      });
    }
  }
  const connected = new Set<string>();
  for (const inode of process.socketInodes ?? []) {
    const socket = sockets.get(inode);
    if (!socket || socket.state === 'other') continue;
    const endpoint = matchEndpoint(endpoints, socket.remoteAddress, socket.remotePort);
    if (!endpoint) continue;
    const remote = `${socket.remoteAddress.includes(':') ? `[${socket.remoteAddress}]` : socket.remoteAddress}:${socket.remotePort}`;
    if (connected.has(remote)) continue;
    connected.add(remote);
    findings.push({
      ...base,
      id: id('tcp', endpoint.provider, remote),
      kind: 'provider-connection',
      summary: `TCP connection to ${endpoint.provider} (${endpoint.label}, ${remote})`,
      weight: 0.8,
      provider: endpoint.provider,
    });
  }
  return findings;
}

async function readSockets(procRoot: string): Promise<Map<number, TcpSocket>> {
  const sockets = new Map<number, TcpSocket>();
  for (const table of ['tcp', 'tcp6']) {
    // The scanning process's network namespace: the host's, unless Gatehouse itself runs in a container.
    const text = await readFile(join(procRoot, 'net', table), 'utf8').catch(() => '');
    for (const socket of parseTcpTable(text)) if (socket.inode !== 0) sockets.set(socket.inode, socket);
  }
  return sockets;
}

async function readBootTime(procRoot: string): Promise<number | null> {
  const text = await readFile(join(procRoot, 'stat'), 'utf8').catch(() => '');
  const value = Number(/^btime\s+(\d+)/m.exec(text)?.[1]);
  return Number.isFinite(value) && value > 0 ? value : null;
}

async function readUsers(): Promise<Map<number, string>> {
  const users = new Map<number, string>();
  const text = await readFile('/etc/passwd', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid && /^\d+$/.test(uid)) users.set(Number(uid), name);
  }
  return users;
}

function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ESRCH';
}

function article(word: string): 'a' | 'an' {
  return /^[aeio]/i.test(word) ? 'an' : 'a';
}
