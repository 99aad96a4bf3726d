import { z } from 'zod';

/** Names people type on the command line: lowercase, digits, dashes, dots and underscores. */
export const NameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 lowercase letters, digits, `.`, `_` or `-`');

export const EmailSchema = z
  .email()
  .max(254)
  .transform((value) => value.toLowerCase());

export const LabelsSchema = z
  .record(
    z.string().regex(/^[a-z0-9][a-z0-9./_-]{0,62}$/, 'label keys are lowercase words'),
    z.string().max(253),
  )
  .refine((labels) => Object.keys(labels).length <= 64, 'at most 64 labels');

/** `server.tool`, where either part may use `*` globs, e.g. `github.*`, `files.read_*`. */
const ToolPatternSchema = z
  .string()
  .regex(/^[A-Za-z0-9_*-]+\.[A-Za-z0-9_.*-]+$/, 'must be `server.tool` (globs with `*` allowed)');

/** A host name, optionally with a leading `*.` wildcard and a port. */
const EgressHostSchema = z
  .string()
  .regex(
    /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/,
    'must be a lowercase host name, optionally `*.` and `:port`',
  );

const WordSchema = z.string().regex(/^[a-z0-9][a-z0-9._:-]{0,62}$/, 'must be a lowercase word');

const sortedUnique = (values: string[]) => [...new Set(values)].sort();

/** A manifest as pushed by people: lists are deduplicated and sorted, so equal manifests hash equal. */
export const ManifestSchema = z
  .strictObject({
    description: z.string().max(4000).default(''),
    tools: z.array(ToolPatternSchema).max(1000).default([]),
    egressHosts: z.array(EgressHostSchema).max(1000).default([]),
    llmProviders: z.array(WordSchema).max(100).default([]),
    dataClasses: z.array(WordSchema).max(100).default([]),
  })
  .transform((manifest) => ({
    description: manifest.description,
    tools: sortedUnique(manifest.tools),
    egressHosts: sortedUnique(manifest.egressHosts),
    llmProviders: sortedUnique(manifest.llmProviders),
    dataClasses: sortedUnique(manifest.dataClasses),
  }));
