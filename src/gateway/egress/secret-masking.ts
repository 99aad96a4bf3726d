import { Transform } from 'node:stream';

/** Values shorter than this are not masked: they would blank out ordinary text and prove nothing. */
const MIN_SECRET_LENGTH = 4;

/**
 * The byte strings a credential can appear as in a response: as is, URL-encoded and form-encoded (an upstream
 * echoing a query parameter back).
 */
export function secretNeedles(values: readonly string[]): Buffer[] {
  const forms = new Set<string>();
  for (const value of values) {
    if (value.length < MIN_SECRET_LENGTH) continue;
    forms.add(value);
    forms.add(encodeURIComponent(value));
    forms.add(new URLSearchParams({ v: value }).toString().slice(2));
  }
  return [...forms].map((form) => Buffer.from(form, 'utf8')).sort((a, b) => b.length - a.length);
}

/** Replaces every occurrence of the needles in a header value by as many `*`. */
export function maskText(text: string, needles: readonly Buffer[]): string {
  let out = text;
  for (const needle of needles) {
    const form = needle.toString('utf8');
    if (out.includes(form)) out = out.split(form).join('*'.repeat(form.length));
  }
  return out;
}

/**
 * A stream that overwrites every occurrence of the needles with `*` of the same length, so a body's length
 * (and any Content-Length) stays true. Only the shortest tail that could still become a needle is held back
 * between chunks, so streamed responses (server-sent events) are not delayed.
 */
export function maskSecrets(needles: readonly Buffer[]): Transform {
  let held = Buffer.alloc(0);
  const maskAll = (buffer: Buffer) => {
    for (const needle of needles) {
      let at = buffer.indexOf(needle);
      while (at !== -1) {
        buffer.fill(0x2a, at, at + needle.length);
        at = buffer.indexOf(needle, at + needle.length);
      }
    }
  };
  const partialTail = (buffer: Buffer): number => {
    const longest = Math.min(buffer.length, (needles[0]?.length ?? 1) - 1);
    for (let k = longest; k > 0; k--) {
      const tail = buffer.subarray(buffer.length - k);
      if (needles.some((needle) => needle.length > k && needle.subarray(0, k).equals(tail))) return k;
    }
    return 0;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (needles.length === 0) {
        done(null, chunk);
        return;
      }
      const buffer = Buffer.concat([held, chunk]);
      maskAll(buffer);
      const keep = partialTail(buffer);
      held = Buffer.from(buffer.subarray(buffer.length - keep));
      const out = buffer.subarray(0, buffer.length - keep);
      done(null, out.length > 0 ? out : undefined);
    },
    flush(done) {
      done(null, held.length > 0 ? held : undefined);
    },
  });
}
