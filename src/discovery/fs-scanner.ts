import type { Dirent } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { parse as parseYaml } from 'yaml';
import { manifestDigest } from '../registry/index.js';
import { ManifestSchema } from '../registry/schemas.js';
import type { DiscoveryCatalog } from './catalog.js';
import { stableId } from './fingerprint.js';
import { findKeysInText } from './key-formats.js';
import { mcpClientConfigFor, parseMcpClientConfig } from './mcp-client-configs.js';
import { resolveOwners } from './owners.js';
import { DEFAULT_EXCLUDED_DIRECTORIES, MANIFEST_FILE, PROJECT_MARKERS } from './signatures.js';
import { findSdkDependencies, findSdkImports } from './source-signals.js';
import { emptyScanStats, type Finding, noteSkipped, type ProgressListener, type ScanStats } from './types.js';

export interface PathScanOptions {
  catalog: DiscoveryCatalog;
  paths: readonly string[];
  /** .gitignore-style patterns excluded under every root (besides the trees' own .gitignore files). */
  exclude?: readonly string[];
  maxFileBytes?: number;
  maxFiles?: number;
  /** Look up owners in CODEOWNERS and git history (default true). */
  owners?: boolean;
  onProgress?: ProgressListener;
}

export interface PathScan {
  findings: Finding[];
  stats: ScanStats;
  /** Roots that do not exist or cannot be read. */
  missing: string[];
}

interface IgnoreLevel {
  /** The directory the rules belong to (real path). */
  dir: string;
  rules: Ignore;
}

interface DirectoryTask {
  /** Real path of the directory. */
  real: string;
  /** The path people see (through symlinks as walked). */
  shown: string;
  root: string;
  levels: IgnoreLevel[];
  project: string;
  projectMarked: boolean;
  /** Real paths of this directory and its ancestors, for loop detection. */
  ancestors: string[];
}

const BINARY_PROBE = 8000;

/**
 * Walks the given directories for SDK imports and dependencies, MCP client configurations, hard-coded provider
 * keys and Gatehouse agent manifests. Honours .gitignore files, never follows a symlink out of the given paths,
 * and skips (and counts) binary, huge, unreadable and malformed files and symlink loops.
 */
export async function scanPaths(options: PathScanOptions): Promise<PathScan> {
  const stats = emptyScanStats();
  const findings: Finding[] = [];
  const missing: string[] = [];
  const maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
  const maxFiles = options.maxFiles ?? 200_000;
  const roots: string[] = [];
  for (const path of options.paths) {
    try {
      const real = await realpath(path);
      if ((await stat(real)).isDirectory() || (await stat(real)).isFile()) roots.push(real);
      else missing.push(path);
    } catch {
      missing.push(path);
    }
  }
  const inside = (path: string) => roots.some((root) => path === root || path.startsWith(`${root}${sep}`));
  const visitedDirs = new Set<string>();
  const scannedFiles = new Set<string>();
  const projectNames = new Map<string, Set<string>>();
  const ownerFiles = new Map<Finding, string>();

  const scanFile = async (real: string, shown: string, root: string, project: string, marked: boolean) => {
    if (scannedFiles.has(real)) return;
    scannedFiles.add(real);
    if (stats.files.scanned >= maxFiles) {
      stats.files.truncated = true;
      return;
    }
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(real);
    } catch {
      stats.files.unreadable += 1;
      noteSkipped(stats, 'unreadable', shown);
      return;
    }
    if (!info.isFile()) {
      stats.files.special += 1;
      noteSkipped(stats, 'not a regular file', shown);
      return;
    }
    if (info.size > maxFileBytes) {
      stats.files.tooLarge += 1;
      noteSkipped(stats, `larger than ${maxFileBytes} bytes`, shown);
      return;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(real);
    } catch {
      stats.files.unreadable += 1;
      noteSkipped(stats, 'unreadable', shown);
      return;
    }
    if (bytes.subarray(0, BINARY_PROBE).includes(0)) {
      stats.files.binary += 1;
      noteSkipped(stats, 'binary', shown);
      return;
    }
    stats.files.scanned += 1;
    if (stats.files.scanned % 200 === 0) {
      options.onProgress?.({
        phase: 'files',
        done: stats.files.scanned,
        total: null,
        current: dirname(shown),
      });
    }
    const text = bytes.toString('utf8');
    const rel = relative(root, shown).split(sep).join('/') || basename(shown);
    const found = analyzeFile(
      { text, rel, shown, real, project, marked, when: info.mtime.toISOString() },
      options.catalog,
      stats,
    );
    for (const finding of found.findings) {
      ownerFiles.set(finding, real);
      findings.push(finding);
    }
    if (found.projectName) {
      const names = projectNames.get(project) ?? new Set<string>();
      names.add(found.projectName);
      projectNames.set(project, names);
    }
  };

  for (const root of roots) {
    const rootInfo = await stat(root);
    if (rootInfo.isFile()) {
      await scanFile(root, root, dirname(root), dirname(root), false);
      continue;
    }
    const rootRules = ignore().add([...(options.exclude ?? [])]);
    const stack: DirectoryTask[] = [
      {
        real: root,
        shown: root,
        root,
        levels: [{ dir: root, rules: rootRules }],
        project: root,
        projectMarked: false,
        ancestors: [],
      },
    ];
    while (stack.length > 0) {
      const task = stack.pop() as DirectoryTask;
      if (visitedDirs.has(task.real)) continue;
      visitedDirs.add(task.real);
      stats.files.directories += 1;
      let entries: Dirent[];
      try {
        entries = (await readdir(task.shown, { withFileTypes: true })).sort((a, b) =>
          a.name.localeCompare(b.name),
        );
      } catch {
        stats.files.unreadable += 1;
        noteSkipped(stats, 'directory unreadable', task.shown);
        continue;
      }
      const names = new Set(entries.map((entry) => entry.name));
      const marked = PROJECT_MARKERS.some((marker) => names.has(marker));
      const project = marked ? task.real : task.project;
      const projectMarked = marked || task.projectMarked;
      const levels = [...task.levels];
      if (names.has('.gitignore')) {
        const rules = await readFile(join(task.shown, '.gitignore'), 'utf8').catch(() => '');
        levels.push({ dir: task.real, rules: ignore().add(rules) });
      }
      const ancestors = [...task.ancestors, task.real];
      const children: DirectoryTask[] = [];
      for (const entry of entries) {
        let shown = join(task.shown, entry.name);
        const logical = join(task.real, entry.name);
        let kind: 'dir' | 'file' | 'special';
        let real = logical;
        if (entry.isSymbolicLink()) {
          try {
            real = await realpath(shown);
          } catch (error) {
            const loop = (error as NodeJS.ErrnoException).code === 'ELOOP';
            if (loop) stats.files.symlinkLoop += 1;
            else stats.files.brokenSymlink += 1;
            noteSkipped(stats, loop ? 'symlink loop' : 'broken symlink', shown);
            continue;
          }
          if (!inside(real)) {
            stats.files.symlinkOutside += 1;
            noteSkipped(stats, 'symlink leads outside the scanned paths', shown);
            continue;
          }
          const target = await stat(real).catch(() => undefined);
          kind = target?.isDirectory() ? 'dir' : target?.isFile() ? 'file' : 'special';
          if (kind === 'dir' && ancestors.includes(real)) {
            stats.files.symlinkLoop += 1;
            noteSkipped(stats, 'symlink loop', shown);
            continue;
          }
          // Reported where the content lives: the link is only a way there.
          shown = real;
        } else kind = entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : 'special';
        if (kind === 'dir' && DEFAULT_EXCLUDED_DIRECTORIES.includes(entry.name)) {
          stats.files.ignored += 1;
          continue;
        }
        if (isIgnored(levels, logical, kind === 'dir')) {
          stats.files.ignored += 1;
          continue;
        }
        if (kind === 'special') {
          stats.files.special += 1;
          noteSkipped(stats, 'not a regular file', shown);
        } else if (kind === 'dir') {
          children.push({ real, shown, root: task.root, levels, project, projectMarked, ancestors });
        } else await scanFile(real, shown, task.root, project, projectMarked);
      }
      // Depth-first in name order: reversed so the first name is popped first.
      stack.push(...children.reverse());
      if (stats.files.truncated) break;
    }
  }

  for (const finding of findings) {
    if (finding.subject.type !== 'project') continue;
    const extra = projectNames.get(finding.subject.root);
    if (extra)
      finding.hints = { ...finding.hints, names: [...new Set([...(finding.hints?.names ?? []), ...extra])] };
  }
  if (options.owners !== false && findings.length > 0) {
    const files = [...new Set(ownerFiles.values())];
    const owners = await resolveOwners(files, (done) =>
      options.onProgress?.({ phase: 'owners', done, total: files.length }),
    );
    for (const [finding, file] of ownerFiles) finding.owners = owners.get(file) ?? [];
  }
  return { findings, stats, missing };
}

function isIgnored(levels: readonly IgnoreLevel[], path: string, directory: boolean): boolean {
  let ignored = false;
  for (const level of levels) {
    const rel = relative(level.dir, path).split(sep).join('/');
    if (!rel || rel.startsWith('..')) continue;
    const result = level.rules.test(directory ? `${rel}/` : rel);
    if (result.ignored) ignored = true;
    else if (result.unignored) ignored = false;
  }
  return ignored;
}

interface FileInput {
  text: string;
  /** Relative to the scanned root, `/`-separated. */
  rel: string;
  shown: string;
  real: string;
  project: string;
  marked: boolean;
  when: string;
}

function analyzeFile(
  file: FileInput,
  catalog: DiscoveryCatalog,
  stats: ScanStats,
): { findings: Finding[]; projectName: string | null } {
  const findings: Finding[] = [];
  const subject = { type: 'project' as const, root: file.project, marked: file.marked };
  const hints = { names: [basename(file.project)], paths: [file.project] };
  const base = { source: 'path' as const, when: file.when, subject, hints };
  const id = (...parts: string[]) => stableId('fnd', [file.real, ...parts], 16);
  let projectName: string | null = null;

  const mcpFile = mcpClientConfigFor(file.rel);
  if (mcpFile) {
    const parsed = parseMcpClientConfig(mcpFile, file.text);
    if (!parsed.ok) {
      stats.files.malformed += 1;
      noteSkipped(stats, `malformed ${parsed.client} MCP configuration`, file.shown);
    } else if (parsed.servers.length > 0) {
      const names = parsed.servers.map((server) => server.name);
      findings.push({
        ...base,
        id: id('mcp-config'),
        kind: 'mcp-client-config',
        where: file.shown,
        summary: `${parsed.client} MCP configuration with ${names.length} ${names.length === 1 ? 'server' : 'servers'}: ${parsed.servers
          .map((server) => `${server.name} (${server.target})`)
          .join(', ')}`,
        weight: 0.6,
        framework: parsed.client,
        mcpServers: names,
      });
    }
  }

  if (MANIFEST_FILE.test(file.rel)) {
    const manifest = readManifest(file.text);
    if (!manifest) {
      stats.files.malformed += 1;
      noteSkipped(stats, 'malformed agent manifest', file.shown);
    } else {
      findings.push({
        ...base,
        id: id('manifest'),
        kind: 'agent-manifest',
        where: file.shown,
        summary: `Gatehouse agent manifest${manifest.name ? ` for ${manifest.name}` : ''} (providers: ${
          manifest.llmProviders.join(', ') || 'none'
        })`,
        weight: 0.9,
        hints: {
          names: [...(manifest.name ? [manifest.name] : []), ...hints.names],
          paths: hints.paths,
          manifestDigests: [manifest.digest],
        },
      });
    }
  }

  for (const sighting of [
    ...findSdkDependencies(file.rel, file.text),
    ...findSdkImports(file.rel, file.text),
  ]) {
    findings.push({
      ...base,
      id: id(sighting.how, sighting.sdk.name),
      kind: sighting.how === 'import' ? 'sdk-import' : 'sdk-dependency',
      where: `${file.shown}:${sighting.line}`,
      summary: `${sighting.how === 'import' ? 'imports' : 'depends on'} ${sighting.sdk.module} (${sighting.sdk.category})`,
      weight: sighting.how === 'import' ? (sighting.sdk.category === 'llm-sdk' ? 0.5 : 0.55) : 0.35,
      ...(sighting.sdk.provider ? { provider: sighting.sdk.provider } : {}),
      ...(sighting.sdk.category === 'agent-framework' ? { framework: sighting.sdk.name } : {}),
    });
  }

  for (const key of findKeysInText(file.text, catalog.keyFormats)) {
    findings.push({
      ...base,
      id: id('key', key.fingerprint),
      kind: 'hardcoded-key',
      where: `${file.shown}:${key.line}`,
      summary: `hard-coded ${key.provider} key (${key.kind}, fp ${key.fingerprint})`,
      weight: 0.5,
      provider: key.provider,
      key: { kind: key.kind, provider: key.provider, fingerprint: key.fingerprint },
    });
  }

  if (/(?:^|\/)package\.json$/.test(file.rel)) {
    try {
      const name = (JSON.parse(file.text) as { name?: unknown }).name;
      if (typeof name === 'string') projectName = name.replace(/^@[^/]+\//, '');
    } catch {
      // a broken package.json names nothing
    }
  } else if (/(?:^|\/)pyproject\.toml$/.test(file.rel)) {
    projectName = /^\s*name\s*=\s*"([^"]+)"/m.exec(file.text)?.[1] ?? null;
  } else if (/(?:^|\/)go\.mod$/.test(file.rel)) {
    projectName = /^module\s+(\S+)/m.exec(file.text)?.[1]?.split('/').at(-1) ?? null;
  }
  return { findings, projectName };
}

function readManifest(text: string) {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch {
    return undefined;
  }
  if (!document || typeof document !== 'object' || Array.isArray(document)) return undefined;
  const record = document as Record<string, unknown>;
  const wrapped = 'manifest' in record;
  const parsed = ManifestSchema.safeParse(wrapped ? record.manifest : record);
  if (!parsed.success) return undefined;
  const name = wrapped ? (record.name ?? record.agent) : undefined;
  return {
    name: typeof name === 'string' ? name : null,
    llmProviders: parsed.data.llmProviders,
    digest: manifestDigest(parsed.data),
  };
}
