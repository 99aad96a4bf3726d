import canonicalizeModule from 'canonicalize';

type Canonicalize = (input: unknown) => string | undefined;

// The package is CommonJS with ESM-style typings; depending on the loader, the function is the default export
// or its `default` property.
const canonicalize: Canonicalize =
  typeof canonicalizeModule === 'function'
    ? (canonicalizeModule as Canonicalize)
    : (canonicalizeModule as unknown as { default: Canonicalize }).default;

/** RFC 8785 (JCS) canonical JSON text of a value. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no canonical JSON form');
  return text;
}
