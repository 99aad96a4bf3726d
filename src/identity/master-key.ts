import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatehouseError } from '../errors/index.js';

/** Where the master key came from; `file-created` and `file` mean it sits beside the data it protects. */
export type MasterKeySource = 'config' | 'file-created' | 'file';

export interface MasterKeyResolution {
  key: Buffer;
  source: MasterKeySource;
}

export const MASTER_KEY_BYTES = 32;
export const MASTER_KEY_FILE = 'master.key';

const SEALED_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Decodes a configured master key (base64 or base64url) that must hold exactly 32 bytes.
 * `source` names where it came from in the error, never the value.
 */
export function parseMasterKey(text: string, source = 'masterKey'): Buffer {
  const trimmed = text.trim();
  // Node's base64 decoder skips characters it does not know, so check the alphabet first.
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new GatehouseError('invalid_config', `\`${source}\` is not base64 or base64url`);
  }
  const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== MASTER_KEY_BYTES) {
    throw new GatehouseError(
      'invalid_config',
      `\`${source}\` must decode to ${MASTER_KEY_BYTES} bytes, got ${key.length}`,
    );
  }
  return key;
}

/**
 * Reads `<dataDir>/master.key`, or creates it (mode 0600) with a fresh random key. Safe when several processes
 * start at once: the file appears atomically, so every process ends up with the same key.
 */
export function loadOrCreateMasterKeyFile(dataDir: string): MasterKeyResolution {
  const file = join(dataDir, MASTER_KEY_FILE);
  const existing = readKeyFile(file);
  if (existing) return { key: existing, source: 'file' };

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, `${randomBytes(MASTER_KEY_BYTES).toString('base64url')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    chmodSync(temporary, 0o600); // the umask may have narrowed it further, never widened; be explicit
    try {
      // link() fails if the name exists, so a concurrent starter's key wins and ours is discarded.
      linkSync(temporary, file);
      return { key: readKeyFileStrict(file), source: 'file-created' };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return { key: readKeyFileStrict(file), source: 'file' };
    }
  } catch (cause) {
    if (cause instanceof GatehouseError) throw cause;
    throw new GatehouseError('invalid_config', `cannot create the master key file \`${file}\``, { cause });
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // already gone
    }
  }
}

/** The configured key when there is one, else the key file in the data directory. */
export function resolveMasterKey(options: {
  configured?: string | undefined;
  dataDir: string;
}): MasterKeyResolution {
  if (options.configured !== undefined) return { key: parseMasterKey(options.configured), source: 'config' };
  return loadOrCreateMasterKeyFile(options.dataDir);
}

/**
 * Seals a secret with AES-256-GCM: `v1.` + base64url(iv | tag | ciphertext). `associatedData` (e.g. a key id)
 * binds the ciphertext to its row, so a sealed value copied onto another row does not decrypt.
 */
export function encryptSecret(key: Uint8Array, plaintext: string, associatedData?: string): string {
  assertKeyLength(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  if (associatedData !== undefined) cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const sealed = Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
  return `${SEALED_VERSION}.${sealed}`;
}

/** Opens a value sealed by `encryptSecret`; a different master key fails with `master_key_mismatch`. */
export function decryptSecret(key: Uint8Array, sealed: string, associatedData?: string): string {
  assertKeyLength(key);
  const [version, body, ...rest] = sealed.split('.');
  if (version !== SEALED_VERSION || body === undefined || rest.length > 0) {
    throw new GatehouseError('master_key_mismatch', 'a stored secret has an unknown encryption format');
  }
  const raw = Buffer.from(body, 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) {
    throw new GatehouseError('master_key_mismatch', 'a stored secret is truncated');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    if (associatedData !== undefined) decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch (cause) {
    throw new GatehouseError(
      'master_key_mismatch',
      'a stored secret does not decrypt with the configured master key',
      { cause },
    );
  }
}

function assertKeyLength(key: Uint8Array): void {
  if (key.length !== MASTER_KEY_BYTES) {
    throw new GatehouseError('invalid_config', `the master key must be ${MASTER_KEY_BYTES} bytes`);
  }
}

function readKeyFile(file: string): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new GatehouseError('invalid_config', `cannot read the master key file \`${file}\``, {
      cause: error,
    });
  }
  return parseMasterKey(text, file);
}

function readKeyFileStrict(file: string): Buffer {
  const key = readKeyFile(file);
  if (!key) throw new GatehouseError('invalid_config', `the master key file \`${file}\` vanished`);
  return key;
}
