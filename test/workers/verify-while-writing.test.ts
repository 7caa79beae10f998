import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { KeyRing } from '../../src/lib/key-ring';
import { SigningKey } from '../../src/lib/signing-key';
import { IntegrityVerifier } from '../../src/features/integrity/integrity-verifier';
import { SealRepository } from '../../src/features/integrity/seal.repository';
import { createApiKey, postEvents, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('verifywriting');
let stack: Awaited<ReturnType<typeof startStack>>;
let pg: Pool;
let verifier: IntegrityVerifier;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  verifier = new IntegrityVerifier(stack.clickhouse!, KeyRing.of(SigningKey.load(undefined, `${ns.dataDir}/keys`).publicKey), new SealRepository(pg, stack.clickhouse!));
  const key = await createApiKey(ns, 'verify-writing');
  for (let i = 0; i < 2; i++) {
    const events = Array.from({ length: 5 }, () => ({ kind: 'audit', event_id: randomUUID(), event_type: 'profile_updated', user_id: 'vw' }));
    expect((await postEvents(stack.url, key, events)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    await stack.writer!.flushAll();
  }
});

afterAll(async () => {
  await pg?.end();
  await stack?.stop();
  await ns.cleanup();
});

const lastSeq = async () => Number((await pg.query<{ m: string }>(`SELECT max(seq) AS m FROM integrity_seals WHERE table_name = 'audit_logs'`)).rows[0]!.m);

describe('verifying while the writer writes', () => {
  it('accepts a seal ClickHouse holds while PostgreSQL still marks it pending (a flush between its two final steps)', async () => {
    const seq = await lastSeq();
    expect(seq).toBeGreaterThanOrEqual(2);
    await pg.query(`UPDATE integrity_seals SET final = false WHERE table_name = 'audit_logs' AND seq = $1`, [seq]);
    try {
      const result = await verifier.verify();
      expect(result.tables.find((t) => t.table === 'audit_logs')).toMatchObject({ ok: true, seals: seq });
    } finally {
      await pg.query(`UPDATE integrity_seals SET final = true WHERE table_name = 'audit_logs' AND seq = $1`, [seq]);
    }
  });

  it('still flags a seal in ClickHouse that the writer never recorded in PostgreSQL', async () => {
    const seq = await lastSeq();
    const { rows } = await pg.query(`DELETE FROM integrity_seals WHERE table_name = 'audit_logs' AND seq = $1 RETURNING *`, [seq]);
    try {
      const broken = (await verifier.verify()).tables.find((t) => t.table === 'audit_logs')!;
      expect(broken.ok).toBe(false);
      expect(broken.first_break).toMatchObject({ kind: 'seal_modified', seal_seq: seq });
      expect(broken.first_break!.detail).toMatch(/differs from the writer's record in PostgreSQL/);
    } finally {
      const r = rows[0];
      const columns = Object.keys(r);
      await pg.query(
        `INSERT INTO integrity_seals (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        columns.map((c) => r[c]),
      );
    }
    expect((await verifier.verify()).ok).toBe(true);
  });
});
