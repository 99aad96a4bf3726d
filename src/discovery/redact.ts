import { keyFormatOf } from './key-formats.js';
import type { KeyFormat } from './signatures.js';

const SECRET_FLAG = /(?:key|token|secret|passw(?:or)?d|auth|credential|bearer)/i;

/**
 * A command line fit to show: values of secret-looking flags (`--api-key X`, `--token=X`) and anything shaped
 * like a provider key become `<redacted>`; long lines are cut.
 */
export function redactCommandLine(argv: readonly string[], formats: readonly KeyFormat[], max = 160): string {
  const shown: string[] = [];
  for (const [index, arg] of argv.entries()) {
    const previous = argv[index - 1] ?? '';
    const equals = /^(-{1,2}[A-Za-z0-9_-]+)=(.*)$/.exec(arg);
    if (equals && SECRET_FLAG.test(equals[1] ?? '')) shown.push(`${equals[1]}=<redacted>`);
    else if (/^-{1,2}[A-Za-z0-9_-]+$/.test(previous) && SECRET_FLAG.test(previous)) shown.push('<redacted>');
    else if (keyFormatOf(arg, formats) || containsKey(arg, formats)) shown.push('<redacted>');
    else shown.push(arg);
  }
  const line = shown.join(' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function containsKey(arg: string, formats: readonly KeyFormat[]): boolean {
  return formats.some((format) => format.pattern.test(arg));
}
