import type { Stream } from 'node:stream';

/** Longest stderr line passed on; the rest of a longer line is cut so one upstream cannot flood the log. */
export const MAX_STDERR_LINE = 2000;

/** Calls `onLine` for each line written to `stream` (without the newline); a final unterminated line too. */
export function forEachLine(stream: Stream, onLine: (line: string) => void): void {
  let pending = '';
  let dropping = false;
  stream.on('data', (chunk: Buffer | string) => {
    pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      const line = pending.slice(0, newline).replace(/\r$/, '');
      pending = pending.slice(newline + 1);
      if (!dropping) onLine(line);
      dropping = false;
      newline = pending.indexOf('\n');
    }
    if (pending.length > MAX_STDERR_LINE) {
      if (!dropping) onLine(`${pending.slice(0, MAX_STDERR_LINE)}…`);
      pending = '';
      dropping = true;
    }
  });
  stream.on('end', () => {
    if (pending !== '' && !dropping) onLine(pending);
    pending = '';
  });
}
