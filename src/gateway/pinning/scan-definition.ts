import type { FindingRule, FindingSeverity, ScanFinding, ToolDefinition } from './types.js';
import { BIDI_CONTROLS, INVISIBLE_CHARACTERS, visibleText } from './visible-text.js';

interface PhraseRule {
  rule: FindingRule;
  severity: FindingSeverity;
  message: string;
  pattern: RegExp;
}

// Up to the end of the sentence: a dot inside a path (`~/.ssh`, `mcp.json`) does not end it.
const WITHIN_SENTENCE = String.raw`(?:[^.!?\n]|[.!?](?=\S))`;
const SENSITIVE_TARGET = String.raw`(?:~\/\.ssh|\.ssh\/|id_rsa|id_ed25519|id_ecdsa|private[ _-]?keys?|secret[ _-]?keys?|api[ _-]?keys?|access[ _-]?keys?|credentials?|\.env\b|env(?:ironment)?[ _-]?var(?:iable)?s?|process\.env|\/etc\/passwd|\/etc\/shadow|\.aws\/|\.npmrc|\.netrc|\.pgpass|mcp\.json|keychain|passwords?|session[ _-]?cookies|(?:auth|access|bearer|refresh)[ _-]?tokens?)`;

/**
 * Phrases aimed at the model rather than describing the tool. They run on a normalised copy of the text
 * (invisible characters removed, whitespace collapsed), so `ig<U+200B>nore previous instructions` still matches.
 */
const PHRASE_RULES: readonly PhraseRule[] = [
  {
    rule: 'instruction_override',
    severity: 'high',
    message: 'tells the model to set aside its instructions',
    pattern:
      /\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.!?\n]{0,40}?\b(?:previous|prior|above|earlier|preceding|all|any|other|existing|system|your|the)\b[^.!?\n]{0,30}?\b(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|constraints|context)\b/giu,
  },
  {
    rule: 'instruction_override',
    severity: 'high',
    message: 'claims to give the model new instructions or a new role',
    pattern:
      /\b(?:you are now|from now on,? you|new (?:system )?instructions|system prompt|system message|developer mode|jailbreak)\b/giu,
  },
  {
    rule: 'concealment',
    severity: 'high',
    message: 'asks the model to keep something from the user',
    pattern:
      /\b(?:(?:do not|don'?t|never|must not|should not)\s+(?:tell|inform|mention|reveal|show|notify|alert|disclose|let)\b[^.!?\n]{0,30}?\b(?:the )?user|without\s+(?:telling|informing|notifying|alerting|asking)\s+(?:the )?user|(?:the )?user (?:must|should) (?:not|never) (?:know|see|be told|find out)|keep (?:this|it) (?:a )?secret|(?:do not|don'?t|never) (?:mention|reveal|disclose) (?:this|that|these))/giu,
  },
  {
    rule: 'sensitive_data_request',
    severity: 'high',
    message: 'asks the model to read or pass on keys, secrets or private files',
    pattern: new RegExp(
      String.raw`\b(?:read|cat|open|load|include|send|upload|pass|provide|attach|append|return|print|dump|copy|exfiltrate|forward|share|collect|extract|access|fetch|grab|put)\b${WITHIN_SENTENCE}{0,60}?${SENSITIVE_TARGET}`,
      'giu',
    ),
  },
  {
    rule: 'sensitive_path',
    severity: 'medium',
    message: 'names a file that holds keys or credentials',
    pattern:
      /(?:~\/\.ssh|\.ssh\/|\bid_(?:rsa|ed25519|ecdsa)\b|\/etc\/(?:passwd|shadow)\b|\.aws\/credentials|\.npmrc\b|\.netrc\b|\.pgpass\b|\bmcp\.json\b|(?:^|[\s'"`(])\.env\b)/giu,
  },
  {
    rule: 'model_directive',
    severity: 'medium',
    message: 'gives the model orders beyond describing the tool',
    pattern:
      /\b(?:before (?:using|calling|you (?:use|call)) (?:this|any other|any|the) tools?|(?:you|the (?:assistant|model|ai)) must (?:always|first|also)|always (?:call|use|invoke) this tool|instead of (?:the )?user'?s? request|(?:assistant|ai|model|llm),? (?:please )?(?:ignore|do|send|read|call))\b/giu,
  },
];

interface MarkupRule {
  severity: FindingSeverity;
  message: string;
  pattern: RegExp;
}

/** Markup that hides text from a person reading the rendered description while the model reads it all. */
const MARKUP_RULES: readonly MarkupRule[] = [
  { severity: 'high', message: 'an HTML comment: hidden when rendered', pattern: /<!--[\s\S]*?(?:-->|$)/gu },
  {
    severity: 'high',
    message: 'a tag addressing the model (`<IMPORTANT>`, `<system>` …)',
    pattern:
      /<\/?\s*(?:important|system|instructions?|secret|hidden|admin|assistant|user|context|prompt|note-to-ai)\b[^>]*>/giu,
  },
  {
    severity: 'high',
    message: 'a markdown comment (`[//]: # (…)`): hidden when rendered',
    pattern: /^\s*\[(?:\/\/|comment|_)\]:\s*(?:#|<>)[^\n]*/gimu,
  },
  {
    severity: 'high',
    message: 'styling that hides text (display:none, zero font size, invisible colour)',
    pattern:
      /style\s*=\s*["'][^"']*(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|opacity\s*:\s*0(?:\.0+)?\b|color\s*:\s*(?:white|#fff\b|#ffffff|transparent))[^"']*["']/giu,
  },
  {
    severity: 'medium',
    message: 'a markdown image: rendering it fetches a URL, which can carry data out',
    pattern: /!\[[^\]\n]*\]\(\s*https?:\/\/[^)\s]+[^)]*\)/giu,
  },
];

const EXCERPT_CONTEXT = 30;
const MAX_EXCERPT = 160;
const MAX_FINDINGS_PER_TOOL = 50;

function excerptOf(text: string, start: number, end: number): string {
  const from = Math.max(0, start - EXCERPT_CONTEXT);
  const to = Math.min(text.length, end + EXCERPT_CONTEXT);
  let excerpt = visibleText(text.slice(from, to)).replace(/\s+/gu, ' ').trim();
  if (excerpt.length > MAX_EXCERPT) excerpt = `${excerpt.slice(0, MAX_EXCERPT)}…`;
  return `${from > 0 ? '…' : ''}${excerpt}${to < text.length ? '…' : ''}`;
}

/** ASCII hidden in Unicode tag characters (U+E0020-U+E007E), decoded so the reviewer can read it. */
function decodeTagCharacters(text: string): string {
  let decoded = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0xe0020 && code <= 0xe007e) decoded += String.fromCharCode(code - 0xe0000);
  }
  return decoded;
}

function scanCharacters(tool: string, field: string, text: string): ScanFinding[] {
  const findings: ScanFinding[] = [];
  const describe = (matches: RegExpMatchArray[]) =>
    [...new Set(matches.map((match) => visibleText(match[0])))].join(' ');
  const invisible = [...text.matchAll(INVISIBLE_CHARACTERS)];
  const first = invisible[0];
  if (first) {
    const hidden = decodeTagCharacters(text);
    findings.push({
      tool,
      rule: 'invisible_character',
      severity: 'high',
      field,
      excerpt: excerptOf(text, first.index ?? 0, (first.index ?? 0) + first[0].length),
      message:
        `${invisible.length} invisible character(s) (${describe(invisible)})` +
        (hidden ? `; tag characters spell \`${visibleText(hidden)}\`` : ''),
    });
  }
  const bidi = [...text.matchAll(BIDI_CONTROLS)];
  const firstBidi = bidi[0];
  if (firstBidi) {
    findings.push({
      tool,
      rule: 'bidi_control',
      severity: 'high',
      field,
      excerpt: excerptOf(text, firstBidi.index ?? 0, (firstBidi.index ?? 0) + firstBidi[0].length),
      message: `${bidi.length} bidirectional control character(s) (${describe(bidi)}): shown text may differ from what the model reads`,
    });
  }
  if (/\s{80,}/u.test(text)) {
    const match = /\s{80,}/u.exec(text);
    findings.push({
      tool,
      rule: 'whitespace_padding',
      severity: 'low',
      field,
      excerpt: excerptOf(text, match?.index ?? 0, (match?.index ?? 0) + 1),
      message: 'a long run of whitespace: text after it may be pushed out of view',
    });
  }
  return findings;
}

/** One finding per rule and field: the first match as the excerpt, and how many there were. */
function firstOf(
  tool: string,
  field: string,
  text: string,
  pattern: RegExp,
  make: { rule: FindingRule; severity: FindingSeverity; message: string },
): ScanFinding | undefined {
  const matches = [...text.matchAll(pattern)];
  const first = matches[0];
  if (!first) return undefined;
  const start = first.index ?? 0;
  return {
    tool,
    rule: make.rule,
    severity: make.severity,
    field,
    excerpt: excerptOf(text, start, start + first[0].length),
    message: matches.length > 1 ? `${make.message} (${matches.length} places)` : make.message,
  };
}

function scanPhrases(tool: string, field: string, text: string): ScanFinding[] {
  // Normalised: no invisible characters, single spaces, so spacing and zero-width tricks do not hide a phrase.
  const normalised = text.replace(INVISIBLE_CHARACTERS, '').replace(BIDI_CONTROLS, '').replace(/\s+/gu, ' ');
  const findings = [
    ...PHRASE_RULES.map((rule) => firstOf(tool, field, normalised, rule.pattern, rule)),
    ...MARKUP_RULES.map((rule) =>
      firstOf(tool, field, text, rule.pattern, { ...rule, rule: 'hidden_markup' }),
    ),
  ];
  return findings.filter((finding) => finding !== undefined);
}

/** Every string in a JSON value with its path, object keys included (they reach the model too). */
function* stringsOf(value: unknown, path: string): Generator<[field: string, text: string]> {
  if (typeof value === 'string') {
    yield [path, value];
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* stringsOf(item, `${path}[${index}]`);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const child = /^[A-Za-z_$][\w$]*$/u.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
      yield [`${child} (key)`, key];
      yield* stringsOf(item, child);
    }
  }
}

/**
 * Looks for text in a tool's definition aimed at the model: instructions to ignore other instructions or keep
 * things from the user, requests to read keys or private files, invisible or bidirectional characters, and
 * markup that hides text when rendered. Pure; the description and every string in the input schema are read.
 * Findings are for a reviewer's judgement: a match is a reason to look, not proof of intent.
 */
export function scanDefinition(definition: ToolDefinition): ScanFinding[] {
  const tool = definition.name;
  const fields: Array<[string, string]> = [];
  if (definition.description) fields.push(['description', definition.description]);
  fields.push(...stringsOf(definition.inputSchema, 'inputSchema'));
  const findings: ScanFinding[] = [];
  const seen = new Set<string>();
  for (const [field, text] of fields) {
    // Keys are short identifiers: only characters matter there, phrases would be noise.
    const found = field.endsWith(' (key)')
      ? scanCharacters(tool, field, text)
      : [...scanCharacters(tool, field, text), ...scanPhrases(tool, field, text)];
    for (const finding of found) {
      const key = `${finding.rule}\u0000${finding.field}\u0000${finding.excerpt}`;
      if (seen.has(key)) continue;
      seen.add(key);
      findings.push(finding);
      if (findings.length >= MAX_FINDINGS_PER_TOOL) return findings;
    }
  }
  return findings;
}

/** The highest severity among findings, or null when there are none. */
export function worstSeverity(findings: readonly ScanFinding[]): FindingSeverity | null {
  if (findings.some((finding) => finding.severity === 'high')) return 'high';
  if (findings.some((finding) => finding.severity === 'medium')) return 'medium';
  return findings.length > 0 ? 'low' : null;
}
