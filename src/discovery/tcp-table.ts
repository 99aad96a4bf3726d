/** One TCP socket from /proc/net/tcp or tcp6. */
export interface TcpSocket {
  inode: number;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: 'established' | 'syn-sent' | 'other';
}

const STATES: Record<string, TcpSocket['state']> = { '01': 'established', '02': 'syn-sent' };

/** Parses the kernel's TCP table text (/proc/net/tcp, /proc/net/tcp6). Lines it does not understand are skipped. */
export function parseTcpTable(text: string): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const local = parseEndpoint(fields[1] ?? '');
    const remote = parseEndpoint(fields[2] ?? '');
    const inode = Number(fields[9]);
    if (!local || !remote || !Number.isInteger(inode)) continue;
    sockets.push({
      inode,
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state: STATES[(fields[3] ?? '').toUpperCase()] ?? 'other',
    });
  }
  return sockets;
}

function parseEndpoint(field: string): { address: string; port: number } | undefined {
  const [hex, portHex] = field.split(':');
  if (!hex || !portHex || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  const port = Number.parseInt(portHex, 16);
  if (hex.length === 8) return { address: wordToIpv4(hex), port };
  if (hex.length === 32) {
    // Four 32-bit words, each in host (little-endian) byte order.
    const bytes: number[] = [];
    for (let word = 0; word < 4; word += 1) {
      const chunk = hex.slice(word * 8, word * 8 + 8);
      for (let at = 6; at >= 0; at -= 2) bytes.push(Number.parseInt(chunk.slice(at, at + 2), 16));
    }
    const mapped = bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 255 && bytes[11] === 255;
    if (mapped) return { address: bytes.slice(12).join('.'), port };
    const groups: string[] = [];
    for (let at = 0; at < 16; at += 2)
      groups.push((((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0)).toString(16));
    return { address: compressIpv6(groups), port };
  }
  return undefined;
}

function wordToIpv4(hex: string): string {
  const octets: number[] = [];
  for (let at = 6; at >= 0; at -= 2) octets.push(Number.parseInt(hex.slice(at, at + 2), 16));
  return octets.join('.');
}

function compressIpv6(groups: string[]): string {
  const full = groups.join(':');
  let best = { start: -1, length: 0 };
  for (let start = 0; start < 8; start += 1) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === '0') length += 1;
    if (length > best.length && length > 1) best = { start, length };
  }
  if (best.start === -1) return full;
  const head = groups.slice(0, best.start).join(':');
  const tail = groups.slice(best.start + best.length).join(':');
  return `${head}::${tail}`;
}
