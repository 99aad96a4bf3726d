import { basename } from 'node:path';
import type { CommandSignature } from './signatures.js';

export interface CommandLineMatch {
  name: string;
  category: CommandSignature['category'];
}

export interface CommandLineAnalysis {
  matches: CommandLineMatch[];
  /** MCP servers recognised on the command line, by package or program name. */
  mcpServers: string[];
  /** The script or module the interpreter runs (`agent.py`, `-m crewai`), when recognisable. */
  script: string | null;
  /** A short name for people: the script's or program's base name. */
  label: string;
}

const INTERPRETERS =
  /^(?:node|nodejs|bun|deno|tsx|ts-node|python(?:\d(?:\.\d+)?)?|pypy3?|uv|uvx|npx|pnpm|yarn|go|ruby|java)$/;
const SCRIPT = /\.(?:[cm]?js|[cm]?ts|jsx|tsx|py|rb|go)$/;

/** Recognises agent frameworks, agent CLIs and MCP servers in a process's arguments. */
export function analyzeCommandLine(
  argv: readonly string[],
  signatures: readonly CommandSignature[],
): CommandLineAnalysis {
  const program = basename(argv[0] ?? '');
  // Inline code (`node -e …`, `python -c …`) is a program text, not a name: matching in it would guess.
  const lowered = argv
    .filter((_, index) => !['-e', '-c', '--eval', '-p', '--print'].includes(argv[index - 1] ?? ''))
    .map((arg) => arg.toLowerCase());
  const tokens = lowered.flatMap((arg) => [arg, ...arg.split(/[/\\=]/)]);
  const matches: CommandLineMatch[] = [];
  for (const signature of signatures) {
    const byProgram = signature.program?.test(program.toLowerCase()) ?? false;
    const byToken = signature.token ? tokens.some((token) => signature.token?.test(token)) : false;
    if ((byProgram || byToken) && !matches.some((match) => match.name === signature.name)) {
      matches.push({ name: signature.name, category: signature.category });
    }
  }
  const mcpServers = matches.some((match) => match.category === 'mcp-server') ? mcpServerNames(lowered) : [];
  const script = scriptOf(argv);
  const label = script ? basename(script).replace(SCRIPT, '') : program;
  return { matches, mcpServers, script, label };
}

function scriptOf(argv: readonly string[]): string | null {
  if (!INTERPRETERS.test(basename(argv[0] ?? '').toLowerCase())) return null;
  for (let index = 1; index < argv.length; index += 1) {
    const arg = argv[index] ?? '';
    if (arg === '-m' && argv[index + 1]) return argv[index + 1] ?? null;
    if (arg === '-e' || arg === '-c' || arg === '--eval') {
      index += 1; // inline code: the script, if any, comes after it
      continue;
    }
    if (arg.startsWith('-')) continue;
    if (SCRIPT.test(arg) || arg.includes('/')) return arg;
    if (['run', 'exec', 'start', 'x', 'dlx', '--'].includes(arg)) continue;
    return arg;
  }
  return null;
}

function mcpServerNames(argv: readonly string[]): string[] {
  const names = new Set<string>();
  for (const arg of argv) {
    const scoped = /@modelcontextprotocol\/(server-[a-z0-9-]+)/i.exec(arg);
    if (scoped?.[1]) {
      names.add(scoped[1].toLowerCase());
      continue;
    }
    for (const part of arg.split(/[/\\]/)) {
      const clean = part.replace(/@[^@]*$/, '').toLowerCase();
      if (/(?:^|[-_])mcp[-_]server(?:[-_]|$)|^fastmcp$/.test(clean) && !SCRIPT.test(clean)) names.add(clean);
    }
  }
  return [...names];
}
