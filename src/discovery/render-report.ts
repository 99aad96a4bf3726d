import type { Candidate, DiscoveryReport, ScanStats } from './types.js';

const MAX_EVIDENCE = 8;

/** The report for people: the numbers first, then each candidate with its evidence, then what was skipped. */
export function renderReport(report: DiscoveryReport): string {
  const lines: string[] = [];
  lines.push(`${report.headline}`);
  if (report.summary.registry) {
    lines.push(
      `registry: ${report.summary.registry.agents} ${report.summary.registry.agents === 1 ? 'agent' : 'agents'}, ${report.summary.registry.approved} approved`,
    );
  }
  lines.push(`scanned: ${describeScope(report)} on ${report.host} at ${report.generatedAt}`);
  for (const candidate of report.candidates) lines.push('', ...renderCandidate(candidate));
  const skipped = describeSkipped(report.stats);
  if (skipped) lines.push('', `skipped: ${skipped}`);
  for (const warning of report.warnings) lines.push(`warning: ${warning}`);
  if (report.candidates.some((candidate) => candidate.registry.status === 'unknown')) {
    lines.push(
      '',
      'register a candidate for review: gatehouse discover … --register <id> --team T --sponsor EMAIL',
    );
  }
  return `${lines.join('\n')}\n`;
}

function renderCandidate(candidate: Candidate): string[] {
  const status =
    candidate.registry.status === 'unknown'
      ? 'UNKNOWN'
      : `${candidate.registry.status === 'approved' ? 'APPROVED' : candidate.registry.reviewStatus?.toUpperCase()} as ${candidate.registry.agentName} (matched by ${candidate.registry.matchedBy})`;
  const head = [
    `${candidate.id}  ${candidate.name}`,
    status,
    `${candidate.level} confidence (${candidate.confidence.toFixed(2)})`,
    candidate.isNew ? 'NEW' : candidate.firstSeen ? `first seen ${candidate.firstSeen}` : '',
  ].filter(Boolean);
  const facts = [
    candidate.providers.length ? `providers: ${candidate.providers.join(', ')}` : '',
    candidate.frameworks.length ? `frameworks: ${candidate.frameworks.join(', ')}` : '',
    candidate.mcpServers.length ? `mcp servers: ${candidate.mcpServers.join(', ')}` : '',
    candidate.keys.length
      ? `keys: ${candidate.keys.map((key) => `${key.kind} ${key.fingerprint}`).join(', ')}`
      : '',
    candidate.pids.length ? `pids: ${candidate.pids.join(', ')}` : '',
    `owner: ${candidate.owner ? `${candidate.owner.owner} (${candidate.owner.source})` : 'unknown'}`,
  ].filter(Boolean);
  const lines = [head.join(' · '), `  ${facts.join(' · ')}`];
  for (const finding of candidate.evidence.slice(0, MAX_EVIDENCE)) {
    lines.push(
      `  - [${finding.source}] ${finding.summary} — ${finding.where}${finding.when ? ` — ${finding.when}` : ''}`,
    );
  }
  if (candidate.evidence.length > MAX_EVIDENCE) {
    lines.push(`  … and ${candidate.evidence.length - MAX_EVIDENCE} more (--json shows all)`);
  }
  return lines;
}

function describeScope(report: DiscoveryReport): string {
  const parts: string[] = [];
  if (report.scope.host)
    parts.push(report.scope.pids ? `processes ${report.scope.pids.join(', ')}` : 'processes');
  if (report.scope.paths.length) parts.push(`paths ${report.scope.paths.join(', ')}`);
  if (report.scope.logs.length) parts.push(`logs ${report.scope.logs.join(', ')}`);
  if (report.scope.traffic) parts.push('gatehouse traffic');
  return parts.join(', ') || 'nothing';
}

/** `3 binary, 1 too large, …` — only the non-zero reasons. */
export function describeSkipped(stats: ScanStats): string {
  const parts: [number, string][] = [
    [stats.files.ignored, 'ignored'],
    [stats.files.binary, 'binary'],
    [stats.files.tooLarge, 'too large'],
    [stats.files.unreadable, 'unreadable'],
    [stats.files.symlinkLoop, 'symlink loops'],
    [stats.files.symlinkOutside, 'symlinks leading outside'],
    [stats.files.brokenSymlink, 'broken symlinks'],
    [stats.files.special, 'special files'],
    [stats.files.malformed, 'malformed configs'],
    [stats.processes.environUnreadable, 'process environments unreadable'],
    [stats.processes.fdUnreadable, 'process sockets unreadable'],
    [stats.processes.vanished, 'processes ended while read'],
    [stats.logs.unreadable, 'log files unreadable'],
    [stats.logs.unparsed, 'log lines unparsed'],
  ];
  const text = parts
    .filter(([count]) => count > 0)
    .map(([count, label]) => `${count} ${label}`)
    .join(', ');
  return stats.files.truncated ? `${text}${text ? '; ' : ''}file limit reached, scan truncated` : text;
}
