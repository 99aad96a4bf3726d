import { Transform } from 'node:stream';

/** A pass-through stream that reports the size of every chunk it passes on. */
export function countBytes(onChunk: (bytes: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      onChunk(chunk.length);
      done(null, chunk);
    },
  });
}
