import type { Manifest } from './types.js';

export interface ListChange {
  added: string[];
  removed: string[];
}

/** What changed between two manifest versions, field by field: what a reviewer reads. */
export interface ManifestDiff {
  changed: boolean;
  tools: ListChange;
  egressHosts: ListChange;
  llmProviders: ListChange;
  dataClasses: ListChange;
  description: { from: string; to: string } | null;
}

const EMPTY_MANIFEST: Manifest = {
  description: '',
  tools: [],
  egressHosts: [],
  llmProviders: [],
  dataClasses: [],
};

function diffList(from: readonly string[], to: readonly string[]): ListChange {
  const before = new Set(from);
  const after = new Set(to);
  return {
    added: to.filter((value) => !before.has(value)),
    removed: from.filter((value) => !after.has(value)),
  };
}

/** Structural diff of two manifests; `from` undefined means the first version (everything is added). */
export function diffManifests(from: Manifest | undefined, to: Manifest): ManifestDiff {
  const base = from ?? EMPTY_MANIFEST;
  const lists = {
    tools: diffList(base.tools, to.tools),
    egressHosts: diffList(base.egressHosts, to.egressHosts),
    llmProviders: diffList(base.llmProviders, to.llmProviders),
    dataClasses: diffList(base.dataClasses, to.dataClasses),
  };
  const description =
    base.description === to.description ? null : { from: base.description, to: to.description };
  const changed =
    description !== null ||
    Object.values(lists).some((change) => change.added.length + change.removed.length > 0);
  return { changed, ...lists, description };
}
