import { GatehouseError } from '../errors/index.js';

/** Where the CLI writes: injected so tests capture it. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** All of standard input, for values that must not appear in argv (which `ps` shows), e.g. secrets. */
  stdin?: () => Promise<string>;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  async stdin() {
    // Typed at a terminal, the input would be echoed on screen and kept in its scrollback.
    if (process.stdin.isTTY) {
      throw new GatehouseError('invalid_request', 'standard input is a terminal: pipe the input in');
    }
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  },
};

export type Column<Row> = [header: string, value: (row: Row) => unknown];

/** A plain, aligned text table for people; machines use --json. */
export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((row) => columns.map(([, value]) => formatCell(value(row))));
  const headers = columns.map(([header]) => header);
  const widths = headers.map((header, index) =>
    Math.max(header.length, ...cells.map((line) => line[index]?.length ?? 0)),
  );
  const line = (values: string[]) =>
    values
      .map((value, index) => value.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...cells.map(line)].join('\n')}\n`;
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.join(',');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([key, item]) => `${key}=${String(item)}`)
      .join(',');
  }
  return String(value);
}

/** Renders `key: value` lines for one record. */
export function renderRecord(record: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(record).map((key) => key.length));
  return `${Object.entries(record)
    .map(([key, value]) => `${key.padEnd(width)}  ${formatCell(value)}`)
    .join('\n')}\n`;
}
