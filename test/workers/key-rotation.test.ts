import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { KeyRing } from '../../src/lib/key-ring';
import { SecretBox } from '../../src/lib/secret-box';
import { SigningKey } from '../../src/lib/signing-key';
import { IntegrityVerifier } from '../../src/features/integrity/integrity-verifier';
import { SealRepository } from '../../src/features/integrity/seal.repository';
import type { VerificationResult } from '../../src/domain/verification';
import { api } from '../helpers/accounts';
import { runCli } from '../helpers/child';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('keyrotation');
afterAll(() => ns.cleanup());

const keysDir = () => path.join(ns.dataDir, 'keys');

/** Events of two tables, flushed: one more seal per table, signed with the running key. */
async function sealedRound(stack: Awaited<ReturnType<typeof startStack>>, key: string): Promise<void> {
  const events = Array.from({ length: 5 }, () => [
    { kind: 'audit', event_id: randomUUID(), event_type: 'profile_updated', user_id: 'rot' },
    { kind: 'security', event_id: randomUUID(), event_type: 'SUSPICIOUS_ACTIVITY', severity_level: 'HIGH' },
  ]).flat();
  expect((await postEvents(stack.url, key, events)).status).toBe(202);
  await new Promise((r) => setTimeout(r, 300));
  await stack.writer!.flushAll();
}

it('keeps seals and reports signed before `auditflow keys rotate` verifiable, and signs new ones with the new key', async () => {
  let stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  const key = await createApiKey(ns, 'rotation-app', ['ingest', 'reports']);
  const period = { type: 'weekly_access_review', period_start: '2026-01-01T00:00:00Z', period_end: '2026-01-08T00:00:00Z' };
  let oldReport: string;
  const oldKeyId = SigningKey.load(undefined, keysDir()).keyId;
  try {
    await sealedRound(stack, key);
    const created = await api<{ id: string }>(stack.url, 'POST', '/v1/reports', { token: key, body: period });
    expect(created.status).toBeLessThan(300);
    oldReport = created.body.id;
  } finally {
    await stack.stop();
  }

  const rotated = runCli(['keys', 'rotate'], ns.env());
  expect(rotated.stderr).toBe('');
  expect(rotated.code).toBe(0);
  const newKeyId = SigningKey.load(undefined, keysDir()).keyId;
  expect(newKeyId).not.toBe(oldKeyId);
  expect(rotated.stdout).toContain(`Retired key ${oldKeyId}`);
  expect(rotated.stdout).toContain(`New signing key ${newKeyId}`);
  expect(fs.existsSync(path.join(keysDir(), 'retired', `${oldKeyId}.pem`))).toBe(true);

  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  const pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  try {
    await sealedRound(stack, key);
    const keyIds = await queryRows<{ key_id: string }>(stack.clickhouse!, `SELECT DISTINCT key_id FROM integrity_seals WHERE table_name = 'audit_logs' ORDER BY key_id`);
    expect(keyIds.map((k) => k.key_id).sort()).toEqual([oldKeyId, newKeyId].sort());

    const verified = await api<VerificationResult>(stack.url, 'GET', '/v1/integrity/verify', { token: key });
    expect(verified.status).toBe(200);
    expect(verified.body.tables.filter((t: { ok: boolean }) => !t.ok)).toEqual([]);
    expect(verified.body.ok).toBe(true);

    const oldCheck = await api(stack.url, 'GET', `/v1/reports/${oldReport}/verification`, { token: key });
    expect(oldCheck.body).toMatchObject({ ok: true, key_id: oldKeyId, signature_valid: true, key_matches: true });
    const newReport = await api<{ id: string }>(stack.url, 'POST', '/v1/reports', { token: key, body: { ...period, period_start: '2026-01-08T00:00:00Z', period_end: '2026-01-15T00:00:00Z' } });
    const newCheck = await api(stack.url, 'GET', `/v1/reports/${newReport.body.id}/verification`, { token: key });
    expect(newCheck.body).toMatchObject({ ok: true, key_id: newKeyId });

    // Without the retired key, the old seals no longer verify: it is the retired key that keeps them green.
    const current = SigningKey.load(undefined, keysDir()).publicKey;
    const withoutRetired = await new IntegrityVerifier(stack.clickhouse!, KeyRing.of(current), new SealRepository(pg, stack.clickhouse!)).verify();
    expect(withoutRetired.ok).toBe(false);
    const broken = withoutRetired.tables.find((t) => t.table === 'audit_logs')!.first_break!;
    expect(broken.kind).toBe('bad_signature');
    expect(broken.detail).toContain(`unknown key`);
    expect(broken.detail).toContain(oldKeyId);
  } finally {
    await pg.end();
    await stack.stop();
  }
}, 120_000);

it('leaves a configured SIGNING_KEY_FILE alone and says how to rotate it', () => {
  const file = path.join(ns.dataDir, 'configured.pem');
  fs.copyFileSync(path.join(keysDir(), 'signing-key.pem'), file);
  const result = runCli(['keys', 'rotate'], ns.env({ SIGNING_KEY_FILE: file }));
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(/SIGNING_KEY_FILE is set .*keys\/retired\//);
  expect(fs.readFileSync(file, 'utf8')).toBe(fs.readFileSync(path.join(keysDir(), 'signing-key.pem'), 'utf8'));
});

it('gives roles that start at once on one shared KEYS_DIR the same signing and settings keys', async () => {
  const shared = path.join(ns.dataDir, 'shared-keys');
  const script = `const { SigningKey } = require('./dist/lib/signing-key'); const { SecretBox } = require('./dist/lib/secret-box');
    const dir = process.argv[1];
    process.stdout.write(JSON.stringify({ keyId: SigningKey.load(undefined, dir).keyId, sealed: SecretBox.fromConfig(undefined, dir).seal('probe') }));`;
  const run = () =>
    new Promise<{ keyId: string; sealed: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script, shared], { cwd: path.resolve(__dirname, '..', '..') });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      // 'close', not 'exit': at 'exit' the child's output may still be unread, and parsing half of it threw.
      child.on('close', (code) => {
        if (code !== 0) return reject(new Error(`exit ${code}`));
        try {
          resolve(JSON.parse(out));
        } catch (error) {
          reject(new Error(`unreadable output ${JSON.stringify(out)}: ${String(error)}`));
        }
      });
    });
  const results = await Promise.all(Array.from({ length: 8 }, run));
  expect(new Set(results.map((r) => r.keyId)).size).toBe(1);
  const box = SecretBox.fromConfig(undefined, shared);
  for (const { sealed } of results) expect(box.open(sealed)).toBe('probe');
  expect(results[0]!.keyId).toBe(SigningKey.load(undefined, shared).keyId);
  // Nothing half-written is left behind.
  expect(fs.readdirSync(shared).sort()).toEqual(['settings.key', 'signing-key.pem']);
});
