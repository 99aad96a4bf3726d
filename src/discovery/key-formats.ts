import { fingerprintSecret } from './fingerprint.js';
import type { KeyFormat } from './signatures.js';

/** A key found in text: its kind, provider, fingerprint and line. The value stays here, never in a finding. */
export interface KeyMatch {
  kind: string;
  provider: string;
  fingerprint: string;
  line: number;
}

const PLACEHOLDER = /x{4,}|your|example|placeholder|dummy|redacted|changeme|replace|fake|\.\.\.|<|\*{3,}/i;

/** True for documentation values such as `sk-xxxxxxxx…` or `sk-your-key-here`, which are not keys. */
export function looksLikePlaceholder(value: string): boolean {
  if (PLACEHOLDER.test(value)) return true;
  const body = value.replace(/^[a-z]+[-_](?:[a-z]+[-_])?/i, '');
  if (new Set(body).size < 10) return true;
  return shannonEntropy(body) < 3;
}

function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** The format a value has, if any (for keys found by variable name). */
export function keyFormatOf(value: string, formats: readonly KeyFormat[]): KeyFormat | undefined {
  return formats.find((format) => new RegExp(`^(?:${format.pattern.source})$`).test(value.trim()));
}

/** Every key-shaped value in `text` (placeholders excluded), most specific format first, each reported once. */
export function findKeysInText(text: string, formats: readonly KeyFormat[]): KeyMatch[] {
  const found: { start: number; end: number; match: KeyMatch }[] = [];
  for (const format of formats) {
    // Bounded on both sides so a key is matched whole, not as the tail of a longer identifier.
    const pattern = new RegExp(`(?<![A-Za-z0-9_-])(?:${format.pattern.source})(?![A-Za-z0-9_-])`, 'g');
    for (const hit of text.matchAll(pattern)) {
      const start = hit.index;
      const end = start + hit[0].length;
      if (found.some((seen) => start < seen.end && end > seen.start)) continue;
      if (looksLikePlaceholder(hit[0])) continue;
      found.push({
        start,
        end,
        match: {
          kind: format.kind,
          provider: format.provider,
          fingerprint: fingerprintSecret(hit[0]),
          line: lineOf(text, start),
        },
      });
    }
  }
  return found.sort((a, b) => a.start - b.start).map((entry) => entry.match);
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let at = text.indexOf('\n'); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) line += 1;
  return line;
}
