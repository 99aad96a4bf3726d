import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { api, createTestGatehouse, type TestGatehouse } from './support/gatehouse.js';

// Someone with write access to the database edits a recent entry. Gatehouse must neither sign a checkpoint over
// the edited chain nor export it as if it were sound; `audit verify` names the entry.
describe('an audit entry edited in the database', () => {
  let fx: TestGatehouse;
  beforeEach(async () => {
    fx = await createTestGatehouse();
    await api(fx, 'POST', '/admin/v1/teams', { name: 'payments' });
    await fx.gatehouse.audit.flush();
    await fx.gatehouse.audit.checkpointNow();
    await api(fx, 'POST', '/admin/v1/teams', { name: 'platform' });
    await fx.gatehouse.audit.flush();
  });
  afterEach(async () => fx.dispose());

  it('is refused a checkpoint and an export, and verify names it', async () => {
    const head = await fx.gatehouse.store.audit.head();
    const checkpointsBefore = await fx.gatehouse.store.audit.listCheckpoints();
    const attacker = new Database(join(fx.dataDir, 'gatehouse.db'));
    attacker
      .prepare('UPDATE audit_entries SET details = ? WHERE seq = ?')
      .run('{"name":"innocent"}', head.seq);
    attacker.close();

    await expect(fx.gatehouse.audit.checkpointNow()).rejects.toMatchObject({ code: 'audit_chain_broken' });
    expect(await fx.gatehouse.store.audit.listCheckpoints()).toEqual(checkpointsBefore);

    const exported = await api(fx, 'GET', '/admin/v1/audit/export');
    expect(exported.status).toBe(409);
    expect(exported.body.code).toBe('audit_chain_broken');

    const verified = await api(fx, 'POST', '/admin/v1/audit/verify');
    expect(verified.body).toMatchObject({
      ok: false,
      firstBadSeq: head.seq,
      problem: { code: 'hash_mismatch' },
    });
    expect(await fx.gatehouse.store.audit.listCheckpoints()).toEqual(checkpointsBefore);
  });
});
