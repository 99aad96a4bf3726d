import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { codeOfSync } from '../../test/support/errors.js';
import {
  decryptSecret,
  encryptSecret,
  loadOrCreateMasterKeyFile,
  parseMasterKey,
  resolveMasterKey,
} from './master-key.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mk-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('parseMasterKey', () => {
  it('accepts 32 bytes as base64 and as base64url', () => {
    const raw = randomBytes(32);
    expect(parseMasterKey(raw.toString('base64')).equals(raw)).toBe(true);
    expect(parseMasterKey(raw.toString('base64url')).equals(raw)).toBe(true);
    expect(parseMasterKey(`  ${raw.toString('base64')}\n`).equals(raw)).toBe(true);
  });

  it('rejects other lengths and non-base64 text with invalid_config, without echoing the value', () => {
    expect(codeOfSync(() => parseMasterKey(randomBytes(16).toString('base64')))).toBe('invalid_config');
    expect(codeOfSync(() => parseMasterKey(randomBytes(33).toString('base64')))).toBe('invalid_config');
    expect(codeOfSync(() => parseMasterKey('not base64 at all!'))).toBe('invalid_config');
    try {
      parseMasterKey('c2VjcmV0LXRoYXQtaXMtdG9vLXNob3J0');
    } catch (error) {
      expect((error as Error).message).not.toContain('c2VjcmV0');
    }
  });
});

describe('loadOrCreateMasterKeyFile', () => {
  it('creates master.key with mode 0600 once, then reads the same key back', () => {
    const dir = join(tempDir(), 'nested');
    const created = loadOrCreateMasterKeyFile(dir);
    expect(created.source).toBe('file-created');
    expect(created.key).toHaveLength(32);
    const file = join(dir, 'master.key');
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = loadOrCreateMasterKeyFile(dir);
    expect(again.source).toBe('file');
    expect(again.key.equals(created.key)).toBe(true);
    expect(readFileSync(file, 'utf8').trim()).toBe(created.key.toString('base64url'));
  });

  it('refuses a corrupt key file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'master.key'), 'short\n');
    expect(codeOfSync(() => loadOrCreateMasterKeyFile(dir))).toBe('invalid_config');
  });

  it('prefers a configured key over the file', () => {
    const dir = tempDir();
    const raw = randomBytes(32);
    const resolved = resolveMasterKey({ configured: raw.toString('base64'), dataDir: dir });
    expect(resolved).toEqual({ key: raw, source: 'config' });
    expect(resolveMasterKey({ dataDir: dir }).source).toBe('file-created');
  });
});

describe('encryptSecret / decryptSecret', () => {
  it('round-trips, uses a fresh IV each time, and never contains the plaintext', () => {
    const key = randomBytes(32);
    const secret = '{"d":"super-secret-private-part"}';
    const a = encryptSecret(key, secret);
    const b = encryptSecret(key, secret);
    expect(a).not.toBe(b);
    expect(a.startsWith('v1.')).toBe(true);
    expect(a).not.toContain('super-secret');
    expect(decryptSecret(key, a)).toBe(secret);
  });

  it('fails with master_key_mismatch under a different key, tampering, or different associated data', () => {
    const key = randomBytes(32);
    const sealed = encryptSecret(key, 'hello', 'kid-1');
    expect(codeOfSync(() => decryptSecret(randomBytes(32), sealed, 'kid-1'))).toBe('master_key_mismatch');
    expect(codeOfSync(() => decryptSecret(key, sealed, 'kid-2'))).toBe('master_key_mismatch');
    const body = Buffer.from(sealed.slice(3), 'base64url');
    body[body.length - 1] = (body[body.length - 1] ?? 0) ^ 1;
    expect(codeOfSync(() => decryptSecret(key, `v1.${body.toString('base64url')}`, 'kid-1'))).toBe(
      'master_key_mismatch',
    );
    expect(codeOfSync(() => decryptSecret(key, `v9.${sealed.slice(3)}`, 'kid-1'))).toBe(
      'master_key_mismatch',
    );
    expect(decryptSecret(key, sealed, 'kid-1')).toBe('hello');
  });
});
