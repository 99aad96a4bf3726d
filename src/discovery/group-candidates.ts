import { sep } from 'node:path';
import { toAgentName } from './candidate-name.js';
import { confidenceOf, levelOf } from './confidence.js';
import { stableId } from './fingerprint.js';
import type { Candidate, Finding, KeySighting, OwnerHint } from './types.js';

interface Bucket {
  key: string;
  kind: Candidate['kind'];
  findings: Finding[];
  /** Set when merged into another bucket. */
  into?: Bucket;
}

const OWNER_PRECEDENCE: OwnerHint['source'][] = ['registry', 'codeowners', 'git', 'process-user'];

/**
 * Groups findings into candidate agents: one per process (restarts and replicas of the same command line
 * together), project directory, unregistered caller or registered agent. A process running code from a scanned
 * project joins that project; an MCP server joins the client process that started it. Pure.
 */
export function groupCandidates(findings: readonly Finding[], host: string): Candidate[] {
  const buckets = new Map<string, Bucket>();
  const bucketOf = (key: string, kind: Candidate['kind']) => {
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = { key, kind, findings: [] };
      buckets.set(key, bucket);
    }
    return bucket;
  };
  for (const finding of findings) {
    const subject = finding.subject;
    const bucket =
      subject.type === 'process'
        ? bucketOf(`process:${subject.key}`, 'process')
        : subject.type === 'project'
          ? bucketOf(`project:${host}:${subject.root}`, 'project')
          : subject.type === 'caller'
            ? bucketOf(`caller:${subject.key}`, 'caller')
            : bucketOf(`agent:${subject.agentId}`, 'agent');
    bucket.findings.push(finding);
  }
  const final = (bucket: Bucket): Bucket => (bucket.into ? final(bucket.into) : bucket);
  const merge = (from: Bucket, to: Bucket) => {
    const target = final(to);
    const source = final(from);
    if (target === source) return;
    target.findings.push(...source.findings);
    source.findings = [];
    source.into = target;
  };

  // MCP servers belong to the client that spawned them (through npx/uvx wrappers too).
  const processByPid = new Map<number, Bucket>();
  for (const bucket of buckets.values()) {
    for (const finding of bucket.findings) {
      if (finding.subject.type === 'process') processByPid.set(finding.subject.pid, bucket);
    }
  }
  for (const bucket of [...buckets.values()]) {
    if (bucket.kind !== 'process') continue;
    // Process by process: the same server command started by two clients is two clients' tool. What else the
    // server process shows (keys it inherited) goes with it.
    for (const finding of [...bucket.findings]) {
      if (finding.kind !== 'mcp-server-process' || finding.subject.type !== 'process') continue;
      const pid = finding.subject.pid;
      const ppid = finding.subject.ppid;
      const parent = ppid !== null ? processByPid.get(ppid) : undefined;
      if (!parent || final(parent) === final(bucket)) continue;
      const target = final(parent);
      const moving = bucket.findings.filter((other) => pidOf(other) === pid);
      bucket.findings = bucket.findings.filter((other) => pidOf(other) !== pid);
      target.findings.push(...moving);
      processByPid.set(pid, target);
    }
  }

  // A process whose script or working directory lies in a scanned project is that project's agent running.
  const projects = [...buckets.values()]
    .filter((bucket) => bucket.kind === 'project')
    .map((bucket) => {
      const subject = bucket.findings[0]?.subject;
      return subject?.type === 'project' ? { bucket, root: subject.root, marked: subject.marked } : undefined;
    })
    .filter((project) => project !== undefined)
    .sort((a, b) => b.root.length - a.root.length);
  const within = (path: string | null, root: string) =>
    !!path && (path === root || path.startsWith(`${root}${sep}`));
  for (const bucket of [...buckets.values()]) {
    if (bucket.kind !== 'process' || bucket.into) continue;
    const home = projects.find((project) =>
      bucket.findings.some(
        (finding) =>
          finding.subject.type === 'process' &&
          (within(finding.subject.script, project.root) ||
            (project.marked && within(finding.subject.cwd, project.root))),
      ),
    );
    if (home) merge(bucket, home.bucket);
  }

  return [...buckets.values()]
    .filter((bucket) => !bucket.into && bucket.findings.length > 0)
    .map(toCandidate);
}

/** Strongest first, and each kind of evidence once before any repeat, so a short listing shows its variety. */
export function orderEvidence(findings: readonly Finding[]): Finding[] {
  const sorted = [...findings].sort(
    (a, b) => b.weight - a.weight || a.kind.localeCompare(b.kind) || a.where.localeCompare(b.where),
  );
  const seen = new Set<string>();
  const first: Finding[] = [];
  const rest: Finding[] = [];
  for (const finding of sorted) {
    const aspect = `${finding.kind}:${finding.provider ?? finding.framework ?? finding.summary}`;
    (seen.has(aspect) ? rest : first).push(finding);
    seen.add(aspect);
  }
  return [...first, ...rest];
}

function pidOf(finding: Finding): number | null {
  return finding.subject.type === 'process' ? finding.subject.pid : null;
}

function toCandidate(bucket: Bucket): Candidate {
  const findings = orderEvidence(bucket.findings);
  const unique = <T>(values: (T | undefined | null)[]) => [
    ...new Set(values.filter((v): v is T => v != null)),
  ];
  const keys = new Map<string, KeySighting>();
  for (const finding of findings) if (finding.key) keys.set(finding.key.fingerprint, finding.key);
  const confidence = confidenceOf(findings);
  const paths = unique(
    findings.flatMap((finding) => [
      finding.subject.type === 'project' ? finding.subject.root : null,
      finding.subject.type === 'process' ? finding.subject.cwd : null,
    ]),
  );
  return {
    id: stableId('cand', [bucket.key]),
    name: suggestName(bucket, findings),
    kind: bucket.kind,
    confidence,
    level: levelOf(confidence),
    sources: unique(findings.map((finding) => finding.source)).sort(),
    providers: unique(findings.map((finding) => finding.provider)).sort(),
    frameworks: unique(findings.map((finding) => finding.framework)).sort(),
    mcpServers: unique(findings.flatMap((finding) => finding.mcpServers ?? [])).sort(),
    keys: [...keys.values()],
    pids: unique(
      findings.map((finding) => (finding.subject.type === 'process' ? finding.subject.pid : null)),
    ).sort((a, b) => a - b),
    paths,
    owner: suggestOwner(findings.flatMap((finding) => finding.owners ?? [])),
    registry: {
      status: 'unknown',
      agentId: null,
      agentName: null,
      reviewStatus: null,
      state: null,
      matchedBy: null,
    },
    firstSeen: null,
    isNew: null,
    evidence: findings,
  };
}

function suggestName(bucket: Bucket, findings: readonly Finding[]): string {
  // A manifest's own name first, then names of the bucket's own subject (project or process), then any.
  const manifest = findings.find((finding) => finding.kind === 'agent-manifest')?.hints?.names?.[0];
  const primary = findings.find((finding) => `${bucket.kind}` === finding.subject.type)?.hints?.names ?? [];
  const projectNames = bucket.kind === 'project' ? [...primary].reverse() : primary;
  for (const hint of [
    manifest,
    ...projectNames,
    ...findings.flatMap((finding) => finding.hints?.names ?? []),
  ]) {
    const name = hint ? toAgentName(hint) : undefined;
    if (name && !['index', 'main', 'src', 'app', 'node', 'python', 'python3'].includes(name)) return name;
  }
  return `agent-${stableId('n', [bucket.key]).slice(2, 10)}`;
}

/** The best-supported owner: by source (registry, CODEOWNERS, git, process user), then by how often named. */
export function suggestOwner(hints: readonly OwnerHint[]): OwnerHint | null {
  for (const source of OWNER_PRECEDENCE) {
    const counts = new Map<string, number>();
    for (const hint of hints)
      if (hint.source === source) counts.set(hint.owner, (counts.get(hint.owner) ?? 0) + 1);
    const best = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
    if (best) return { owner: best[0], source };
  }
  return null;
}
