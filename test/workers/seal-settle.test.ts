import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { openClickHouse } from '../../src/lib/clickhouse';
import { countUnique, createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('sealsettle');
afterAll(() => ns.cleanup());

const event = () => ({ event_id: randomUUID(), kind: 'audit', event_type: 'logout', user_id: 'settle' });

it('settles a seal left pending with all its rows stored (its copy to ClickHouse lost), and the chain goes on', async () => {
  const key = await createApiKey(ns, 'settle-app');
  let stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  const sent = [event(), event()];
  const pg = new Pool({ connectionString: ns.databaseUrl, max: 1 });
  try {
    expect((await postEvents(stack.url, key, sent[0])).status).toBe(202);
    await eventually(async () => (await queryRows(stack.clickhouse!, `SELECT 1 FROM audit_logs WHERE event_id = '${sent[0]!.event_id}'`)).length === 1);
    await stack.stop();
    // As a flush that stored its rows and then could not copy its seal (a full disk) leaves it.
    const { rows } = await pg.query<{ seq: string }>(
      `UPDATE integrity_seals SET final = false WHERE table_name = 'audit_logs' AND seq = (SELECT max(seq) FROM integrity_seals WHERE table_name = 'audit_logs') RETURNING seq`,
    );
    const seq = rows[0]!.seq;
    const clickhouse = await openClickHouse(ns.config().clickhouse);
    await clickhouse.command({ query: `ALTER TABLE integrity_seals DELETE WHERE table_name = 'audit_logs' AND seq = ${seq}`, clickhouse_settings: { mutations_sync: '1' } });
    await clickhouse.close();

    stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
    // Another table flushes first, as under load: its insert leaves input_format_skip_unknown_fields = 0 on the chDB session.
    const other = { event_id: randomUUID(), kind: 'auth', event_type: 'login_success', user_id: 'settle', ip_address: '10.1.1.1' };
    expect((await postEvents(stack.url, key, other)).status).toBe(202);
    await eventually(async () => (await queryRows(stack.clickhouse!, `SELECT 1 FROM auth_audit_log WHERE event_id = '${other.event_id}'`)).length === 1);
    expect((await postEvents(stack.url, key, sent[1])).status).toBe(202);
    const ids = sent.map((e) => `'${e.event_id}'`).join(',');
    await eventually(async () => (await countUnique(stack.clickhouse!, `(SELECT source_app, event_id FROM audit_logs WHERE event_id IN (${ids}))`)).count === 2, 20_000);
    expect((await pg.query('SELECT final FROM integrity_seals WHERE table_name = $1 AND seq = $2', ['audit_logs', seq])).rows[0]).toEqual({ final: true });
    const copies = await queryRows<{ n: number }>(stack.clickhouse!, `SELECT count() AS n FROM integrity_seals WHERE table_name = 'audit_logs' AND seq = ${seq}`);
    expect(Number(copies[0]!.n)).toBe(1);
  } finally {
    await pg.end();
    await stack.stop();
  }
}, 90_000);
