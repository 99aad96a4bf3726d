import { isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { type PolicyFile, PolicyFileSchema } from './bundle-schema.js';

/** One policy file as text, named for error messages (a path relative to the bundle root). */
export interface PolicySource {
  name: string;
  text: string;
}

/** A compile error, pointing at the file, line and rule a person has to fix. */
export interface PolicyProblem {
  file: string;
  line?: number;
  column?: number;
  ruleId?: string;
  /** Dotted path of the offending field, e.g. `rules.3.args.to`. */
  path?: string;
  message: string;
}

export interface ParsedPolicyFile {
  name: string;
  content: PolicyFile;
  /** 1-based line of each rule, for messages found later (CEL, duplicates). */
  ruleLines: number[];
}

/** Parses YAML and validates it against the file schema, collecting every problem rather than the first. */
export function parsePolicySources(sources: readonly PolicySource[]): {
  files: ParsedPolicyFile[];
  problems: PolicyProblem[];
} {
  const files: ParsedPolicyFile[] = [];
  const problems: PolicyProblem[] = [];
  for (const source of sources) {
    const lineCounter = new LineCounter();
    const document = parseDocument(source.text, { lineCounter, uniqueKeys: true, prettyErrors: false });
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        const position = lineCounter.linePos(error.pos[0]);
        problems.push({
          file: source.name,
          line: position.line,
          column: position.col,
          message: error.message,
        });
      }
      continue;
    }
    const raw: unknown = document.toJS({ maxAliasCount: 50 }) ?? {};
    const positionOf = (path: readonly PropertyKey[]) => {
      for (let depth = path.length; depth >= 0; depth -= 1) {
        const node = document.getIn(path.slice(0, depth) as unknown[], true);
        if (isNode(node) && node.range) {
          const position = lineCounter.linePos(node.range[0]);
          return { line: position.line, column: position.col };
        }
      }
      return {};
    };
    const ruleIdAt = (path: readonly PropertyKey[]) => {
      if (path[0] !== 'rules' || typeof path[1] !== 'number') return undefined;
      const id = document.getIn(['rules', path[1], 'id']);
      return typeof id === 'string' ? id : undefined;
    };
    const parsed = PolicyFileSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push(problemFromIssue(source.name, issue, positionOf(issue.path), ruleIdAt(issue.path)));
      }
      continue;
    }
    const ruleLines = (parsed.data.rules ?? []).map((_, index) => positionOf(['rules', index]).line ?? 1);
    files.push({ name: source.name, content: parsed.data, ruleLines });
  }
  return { files, problems };
}

function problemFromIssue(
  file: string,
  issue: z.core.$ZodIssue,
  position: { line?: number; column?: number },
  ruleId: string | undefined,
): PolicyProblem {
  const path = issue.path.map(String).join('.');
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `\`${key}\``).join(', ')}`
      : issue.message;
  return {
    file,
    ...position,
    ...(ruleId === undefined ? {} : { ruleId }),
    ...(path ? { path } : {}),
    message,
  };
}

export function formatPolicyProblem(problem: PolicyProblem): string {
  const where = [problem.file, problem.line, problem.column].filter((part) => part !== undefined).join(':');
  const rule = problem.ruleId === undefined ? '' : ` rule \`${problem.ruleId}\`:`;
  const path = problem.path === undefined ? '' : ` (${problem.path})`;
  return `${where}:${rule} ${problem.message}${path}`;
}
