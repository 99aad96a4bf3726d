/** Discovery's vocabulary: findings (one observation each), grouped into candidate agents, summed up in a report. */

export const FINDING_KINDS = [
  'provider-key-env',
  'agent-framework-process',
  'mcp-server-process',
  'provider-connection',
  'sdk-import',
  'sdk-dependency',
  'mcp-client-config',
  'hardcoded-key',
  'agent-manifest',
  'unregistered-caller',
  'unexpected-provider',
  'provider-log-line',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** Where a finding came from: this host's processes, files under a path, Gatehouse's audit log, a log file. */
export type FindingSource = 'host' | 'path' | 'traffic' | 'logs';

/** What a finding is about; findings about the same subject end up in the same candidate. */
export type FindingSubject =
  | {
      type: 'process';
      /** Stable across restarts: host, user, executable, working directory and arguments, not the pid. */
      key: string;
      pid: number;
      ppid: number | null;
      cwd: string | null;
      /** The script or module the process runs, when one is recognisable. */
      script: string | null;
    }
  | {
      type: 'project';
      root: string;
      /** The root holds a project marker (package.json, go.mod, .git…), not only the scanned directory. */
      marked: boolean;
    }
  | { type: 'caller'; key: string }
  | { type: 'agent'; agentId: string };

/** A provider key as discovery shows it: never the value, only its kind and a short SHA-256 fingerprint. */
export interface KeySighting {
  kind: string;
  provider: string;
  /** First 8 hex digits of SHA-256 over the key. */
  fingerprint: string;
}

/** Who probably owns what a finding points at, and how we know. */
export interface OwnerHint {
  owner: string;
  source: 'codeowners' | 'git' | 'process-user' | 'registry';
}

/** Everything that helps match a finding with a registered agent. */
export interface MatchHints {
  names?: string[];
  paths?: string[];
  agentIds?: string[];
  manifestDigests?: string[];
}

/** One observation: what was seen, where, and when. Never holds a secret. */
export interface Finding {
  /** Stable across runs for the same observation (used for history). */
  id: string;
  kind: FindingKind;
  source: FindingSource;
  /** One human line, e.g. `OPENAI_API_KEY holds an openai key (fp 1a2b3c4d)`. */
  summary: string;
  /** e.g. `pid 4242 (node agent.js)`, `/srv/bot/main.py:3`, `audit #812`. */
  where: string;
  /** ISO time: process start, file modification, audit entry time; null when unknown. */
  when: string | null;
  subject: FindingSubject;
  /** How strongly this alone suggests an agent, 0..1. */
  weight: number;
  provider?: string;
  framework?: string;
  mcpServers?: string[];
  key?: KeySighting;
  owners?: OwnerHint[];
  hints?: MatchHints;
}

/** A registered agent as discovery compares with it. */
export interface RegisteredAgentSnapshot {
  id: string;
  name: string;
  labels: Record<string, string>;
  reviewStatus: 'unreviewed' | 'approved' | 'rejected';
  state: 'active' | 'suspended' | 'retired';
  manifestDigest: string | null;
  llmProviders: string[];
}

export type CandidateStatus = 'unknown' | 'registered' | 'approved';

export interface RegistryMatch {
  status: CandidateStatus;
  agentId: string | null;
  agentName: string | null;
  reviewStatus: RegisteredAgentSnapshot['reviewStatus'] | null;
  state: RegisteredAgentSnapshot['state'] | null;
  matchedBy: 'candidate-label' | 'agent-id' | 'manifest' | 'name' | 'path' | null;
}

export type ConfidenceLevel = 'high' | 'medium' | 'low';

/** A probable agent: findings about one subject, scored, owned and compared with the registry. */
export interface Candidate {
  /** `cand_` + 12 hex digits, stable across runs for the same subject: `--register` takes it. */
  id: string;
  /** A suggested registry name (lowercase, `NameSchema`-valid). */
  name: string;
  kind: 'process' | 'project' | 'caller' | 'agent';
  confidence: number;
  level: ConfidenceLevel;
  sources: FindingSource[];
  providers: string[];
  frameworks: string[];
  mcpServers: string[];
  keys: KeySighting[];
  pids: number[];
  paths: string[];
  owner: OwnerHint | null;
  registry: RegistryMatch;
  /** From the history, when one was consulted: when this candidate was first seen, and whether that is now. */
  firstSeen: string | null;
  isNew: boolean | null;
  evidence: Finding[];
}

/** Things skipped, by reason, so a report says what it could not see. Never fatal. */
export interface ScanStats {
  processes: {
    seen: number;
    matched: number;
    /** Processes that ended while being read. */
    vanished: number;
    environUnreadable: number;
    fdUnreadable: number;
  };
  files: {
    scanned: number;
    directories: number;
    ignored: number;
    binary: number;
    tooLarge: number;
    unreadable: number;
    symlinkOutside: number;
    symlinkLoop: number;
    brokenSymlink: number;
    special: number;
    malformed: number;
    /** Stopped at `maxFiles`. */
    truncated: boolean;
  };
  traffic: { entriesRead: number; fromSeq: number; toSeq: number };
  logs: { files: number; lines: number; unreadable: number; unparsed: number };
  /** Up to 50 examples: what was skipped and why (paths, never contents). */
  examples: { reason: string; where: string }[];
}

export function emptyScanStats(): ScanStats {
  return {
    processes: { seen: 0, matched: 0, vanished: 0, environUnreadable: 0, fdUnreadable: 0 },
    files: {
      scanned: 0,
      directories: 0,
      ignored: 0,
      binary: 0,
      tooLarge: 0,
      unreadable: 0,
      symlinkOutside: 0,
      symlinkLoop: 0,
      brokenSymlink: 0,
      special: 0,
      malformed: 0,
      truncated: false,
    },
    traffic: { entriesRead: 0, fromSeq: 0, toSeq: 0 },
    logs: { files: 0, lines: 0, unreadable: 0, unparsed: 0 },
    examples: [],
  };
}

const MAX_EXAMPLES = 50;

/** Notes a skipped item in `stats.examples` (bounded). */
export function noteSkipped(stats: ScanStats, reason: string, where: string): void {
  if (stats.examples.length < MAX_EXAMPLES) stats.examples.push({ reason, where });
}

/** Adds `other` into `into` (for merging the stats of several scanners). */
export function mergeScanStats(into: ScanStats, other: ScanStats): ScanStats {
  for (const group of ['processes', 'files', 'traffic', 'logs'] as const) {
    const target = into[group] as unknown as Record<string, number | boolean>;
    for (const [key, value] of Object.entries(other[group])) {
      if (typeof value === 'number') {
        if (group === 'traffic' && key === 'fromSeq')
          target[key] = target[key] ? Math.min(Number(target[key]), value) : value;
        else if (group === 'traffic' && key === 'toSeq') target[key] = Math.max(Number(target[key]), value);
        else target[key] = Number(target[key] ?? 0) + value;
      } else target[key] = Boolean(target[key]) || value;
    }
  }
  for (const example of other.examples) noteSkipped(into, example.reason, example.where);
  return into;
}

/** What a discovery run looked at. */
export interface DiscoveryScope {
  host: boolean;
  pids: number[] | null;
  paths: string[];
  logs: string[];
  traffic: boolean;
}

export interface DiscoverySummary {
  found: number;
  registered: number;
  approved: number;
  unknown: number;
  /** Unknown candidates first seen in this run; null when no history was consulted. */
  newUnknown: number | null;
  byLevel: Record<ConfidenceLevel, number>;
  /** The registry as a whole, for comparison. */
  registry: { agents: number; approved: number } | null;
}

export interface DiscoveryReport {
  generatedAt: string;
  host: string;
  scope: DiscoveryScope;
  /** The sentence a CISO asks for: `47 agents found: 6 approved, 0 registered and not approved, 41 unknown`. */
  headline: string;
  summary: DiscoverySummary;
  candidates: Candidate[];
  stats: ScanStats;
  warnings: string[];
}

/** Progress of a long scan, for people watching (the CLI prints it on stderr). */
export interface DiscoveryProgress {
  phase: 'processes' | 'files' | 'traffic' | 'logs' | 'owners';
  done: number;
  total: number | null;
  current?: string;
}

export type ProgressListener = (progress: DiscoveryProgress) => void;
