import ignore from 'ignore';

export interface CodeownersRule {
  pattern: string;
  owners: string[];
}

/** Parses a CODEOWNERS file: `pattern owner...` lines; comments and blank lines dropped. */
export function parseCodeowners(text: string): CodeownersRule[] {
  const rules: CodeownersRule[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(?<!\\)#.*$/, '').trim();
    if (!line) continue;
    const [pattern, ...owners] = line.split(/\s+/);
    if (!pattern || pattern.startsWith('[') || pattern.startsWith('^[')) continue; // GitLab section headers
    rules.push({ pattern: pattern.replace(/\\#/g, '#'), owners });
  }
  return rules;
}

/** The owners of a repository-relative path: the last matching rule wins, as GitHub and GitLab read it. */
export function ownersOf(rules: readonly CodeownersRule[], path: string): string[] {
  const rel = path.replace(/^\/+/, '');
  for (let index = rules.length - 1; index >= 0; index -= 1) {
    const rule = rules[index];
    if (!rule) continue;
    try {
      if (ignore().add(rule.pattern).ignores(rel)) return rule.owners;
    } catch {
      // a pattern `ignore` cannot read matches nothing
    }
  }
  return [];
}
