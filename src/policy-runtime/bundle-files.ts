import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { GatehouseError } from '../errors/index.js';
import type { PolicySource } from '../policy/index.js';

const POLICY_EXTENSIONS = new Set(['.yaml', '.yml']);
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_FILES = 500;

/**
 * Reads a bundle: one YAML file, or every *.yaml / *.yml under a directory (recursively, hidden entries
 * skipped), named by their path relative to it, in a stable order.
 */
export async function readPolicySources(location: string): Promise<PolicySource[]> {
  const info = await stat(location).catch((error: NodeJS.ErrnoException) => {
    throw new GatehouseError(
      'invalid_request',
      `cannot read policy bundle \`${location}\`: ${error.code ?? error.message}`,
    );
  });
  if (info.isFile()) return [await readSource(location, path.basename(location))];
  const files: string[] = [];
  const walk = async (directory: string) => {
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && POLICY_EXTENSIONS.has(path.extname(entry.name))) files.push(full);
    }
  };
  await walk(location);
  if (files.length > MAX_FILES) {
    throw new GatehouseError(
      'policy_invalid',
      `policy bundle \`${location}\` has more than ${MAX_FILES} files`,
    );
  }
  files.sort();
  return Promise.all(
    files.map((file) => readSource(file, path.relative(location, file).split(path.sep).join('/'))),
  );
}

async function readSource(file: string, name: string): Promise<PolicySource> {
  const info = await stat(file);
  if (info.size > MAX_FILE_BYTES) {
    throw new GatehouseError('policy_invalid', `policy file \`${name}\` is larger than 1 MiB`);
  }
  return { name, text: await readFile(file, 'utf8') };
}
