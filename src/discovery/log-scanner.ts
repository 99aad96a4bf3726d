import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { providerOfHost } from './endpoints.js';
import { stableId } from './fingerprint.js';
import type { ProviderEndpoint } from './signatures.js';
import { createTrafficAccumulator } from './traffic-findings.js';
import {
  emptyScanStats,
  type Finding,
  noteSkipped,
  type ProgressListener,
  type RegisteredAgentSnapshot,
  type ScanStats,
} from './types.js';

export interface LogScanOptions {
  files: readonly string[];
  registry: readonly RegisteredAgentSnapshot[];
  endpoints: readonly Pick<ProviderEndpoint, 'provider' | 'hosts'>[];
  onProgress?: ProgressListener;
}

const HOST = /\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\b/gi;
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/;

/**
 * Reads log files: Gatehouse audit exports (JSON lines; LLM-gateway and egress records as in the audit scan) and
 * plain proxy or firewall logs, whose lines naming a provider host become findings per client address.
 */
export async function scanLogFiles(
  options: LogScanOptions,
): Promise<{ findings: Finding[]; stats: ScanStats }> {
  const stats = emptyScanStats();
  const accumulator = createTrafficAccumulator(options.registry, options.endpoints);
  const plain = new Map<
    string,
    {
      client: string;
      provider: string;
      host: string;
      count: number;
      file: string;
      firstLine: number;
      lastLine: number;
    }
  >();
  for (const [index, file] of options.files.entries()) {
    const lines = createInterface({
      input: createReadStream(file, { encoding: 'utf8' }),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let lineNumber = 0;
    try {
      for await (const line of lines) {
        lineNumber += 1;
        stats.logs.lines += 1;
        if (line.trim() === '') continue;
        if (line.trimStart().startsWith('{')) {
          const entry = auditEntryOf(line);
          if (entry) accumulator.add(entry, 'logs');
          else stats.logs.unparsed += 1;
          continue;
        }
        const client = IPV4.exec(line)?.[0];
        for (const host of line.match(HOST) ?? []) {
          const provider = providerOfHost(options.endpoints, host);
          if (!provider) continue;
          const key = `${file}\u0000${client ?? 'unknown client'}\u0000${provider}`;
          const seen = plain.get(key) ?? {
            client: client ?? 'unknown client',
            provider,
            host: host.toLowerCase(),
            count: 0,
            file,
            firstLine: lineNumber,
            lastLine: lineNumber,
          };
          seen.count += 1;
          seen.lastLine = lineNumber;
          plain.set(key, seen);
          break;
        }
      }
      stats.logs.files += 1;
    } catch {
      stats.logs.unreadable += 1;
      noteSkipped(stats, 'log file unreadable', file);
    } finally {
      lines.close();
    }
    options.onProgress?.({ phase: 'logs', done: index + 1, total: options.files.length, current: file });
  }
  const findings = accumulator.findings();
  for (const seen of plain.values()) {
    findings.push({
      id: stableId('fnd', ['log', seen.file, seen.client, seen.provider], 16),
      kind: 'provider-log-line',
      source: 'logs',
      summary: `${seen.count} log ${seen.count === 1 ? 'line' : 'lines'} show ${seen.client} reaching ${seen.provider} (${seen.host})`,
      where: `${seen.file}:${seen.firstLine}${seen.lastLine !== seen.firstLine ? `-${seen.lastLine}` : ''}`,
      when: null,
      subject: { type: 'caller', key: seen.client },
      weight: 0.6,
      provider: seen.provider,
      hints: { names: [seen.client] },
    });
  }
  return { findings, stats };
}

function auditEntryOf(line: string) {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const row = value as Record<string, unknown>;
  if (row.type === 'checkpoint') return { seq: 0, time: '', actor: '', action: 'checkpoint', details: {} };
  if (typeof row.action !== 'string' || typeof row.actor !== 'string') return undefined;
  return {
    seq: typeof row.seq === 'number' ? row.seq : 0,
    time: typeof row.time === 'string' ? row.time : '',
    actor: row.actor,
    action: row.action,
    details: row.details && typeof row.details === 'object' ? (row.details as Record<string, unknown>) : {},
  };
}
