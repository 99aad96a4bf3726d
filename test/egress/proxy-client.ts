import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Sends `text` as is to the proxy and returns everything it answers until it closes the connection. */
export function rawExchange(proxyUrl: string, text: string): Promise<string> {
  const { hostname, port } = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('raw exchange timed out')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.write(text);
  });
}

/** Status code and JSON body of a raw HTTP response. */
export function parseRaw(response: string): { status: number; body: Record<string, unknown> | undefined } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
  const split = response.indexOf('\r\n\r\n');
  const head = split === -1 ? response : response.slice(0, split);
  let text = split === -1 ? '' : response.slice(split + 4);
  if (/\r\ntransfer-encoding: chunked/i.test(head)) text = dechunk(text);
  let body: Record<string, unknown> | undefined;
  try {
    body = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = undefined;
  }
  return { status, body };
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, lineEnd), 16);
    if (lineEnd === -1 || !(size > 0)) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

export function basicAuth(user: string, token: string): string {
  return `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
}

export interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs curl without blocking the event loop (the server under test is in this process). */
export async function curl(args: string[]): Promise<CurlResult> {
  try {
    const { stdout, stderr } = await run('curl', ['-sS', '--max-time', '10', '--noproxy', '', ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failure.code ?? -1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
  }
}
