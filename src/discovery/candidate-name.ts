/** A registry-valid name (`NameSchema`: lowercase, digits, `.`, `_`, `-`, at most 63) from a free-form hint. */
export function toAgentName(hint: string): string | undefined {
  const name = hint
    .toLowerCase()
    .replace(/^@[^/]+\//, '')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/[-.]+$/, '')
    .slice(0, 63)
    .replace(/[-.]+$/, '');
  return name.length > 0 ? name : undefined;
}
