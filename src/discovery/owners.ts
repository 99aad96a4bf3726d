import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { type CodeownersRule, ownersOf, parseCodeowners } from './codeowners.js';
import type { OwnerHint } from './types.js';

const run = promisify(execFile);

// Read-only git, hardened against a hostile repository's own configuration: no fsmonitor hook, no signature
// checks (which would run its gpg.program), no pager, no optional locks. Repositories git deems of dubious
// ownership stay refused; their CODEOWNERS is still read from disk.
const GIT_FLAGS = ['-c', 'core.fsmonitor=false', '-c', 'log.showSignature=false', '--no-pager'];

async function git(cwd: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', [...GIT_FLAGS, ...args], {
      cwd,
      timeout: 5000,
      maxBuffer: 1024 * 1024,
      env: { ...process.env, GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0' },
    });
    return stdout;
  } catch {
    return undefined;
  }
}

/**
 * Suggested owners for files: the CODEOWNERS entry of the repository they are in (.github/, root, docs/), else
 * the most frequent author of the file's last 100 commits. Files outside any repository get none.
 */
export async function resolveOwners(
  files: readonly string[],
  onProgress?: (done: number) => void,
): Promise<Map<string, OwnerHint[]>> {
  const tops = new Map<string, Promise<string | undefined>>();
  const codeowners = new Map<string, Promise<CodeownersRule[]>>();
  const result = new Map<string, OwnerHint[]>();
  let done = 0;
  const topOf = (dir: string) => {
    let top = tops.get(dir);
    if (!top) {
      top = git(dir, ['rev-parse', '--show-toplevel']).then((out) => out?.trim() || undefined);
      tops.set(dir, top);
    }
    return top;
  };
  const rulesOf = (top: string) => {
    let rules = codeowners.get(top);
    if (!rules) {
      rules = readCodeowners(top);
      codeowners.set(top, rules);
    }
    return rules;
  };
  const queue = [...files];
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const top = await topOf(dirname(file));
      const hints: OwnerHint[] = [];
      if (top) {
        const rel = relative(top, file).split(sep).join('/');
        for (const owner of ownersOf(await rulesOf(top), rel)) hints.push({ owner, source: 'codeowners' });
        const author = await topAuthor(top, rel);
        if (author) hints.push({ owner: author, source: 'git' });
      }
      result.set(file, hints);
      done += 1;
      if (done % 20 === 0 || done === files.length) onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return result;
}

async function readCodeowners(top: string): Promise<CodeownersRule[]> {
  for (const candidate of ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS']) {
    const text = await readFile(join(top, candidate), 'utf8').catch(() => undefined);
    if (text !== undefined) return parseCodeowners(text);
  }
  return [];
}

async function topAuthor(top: string, rel: string): Promise<string | undefined> {
  const out = await git(top, ['log', '-n', '100', '--format=%an <%ae>', '--', rel]);
  if (!out) return undefined;
  const counts = new Map<string, number>();
  for (const line of out.split('\n'))
    if (line.trim()) counts.set(line.trim(), (counts.get(line.trim()) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 0;
  for (const [author, count] of counts) {
    if (count > bestCount) {
      best = author;
      bestCount = count;
    }
  }
  return best;
}
