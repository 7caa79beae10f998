import { rowHash } from '../../src/domain/row-hash';
import { chainRows, GENESIS } from '../../src/domain/seal';
import { rowHashesWhile } from '../../src/features/integrity/row-hashes-while';
import { auditRow } from './support/sealed-chain';

const TABLE = 'audit_logs';
const rows = Array.from({ length: 1000 }, (_, i) => auditRow(i + 1));
const never = new Promise<never>(() => undefined);

describe('hashing rows while the duplicate check runs', () => {
  it('hashes every row, each as rowHash does, while the other work is pending', async () => {
    const hashes = await rowHashesWhile(TABLE, rows, never);
    expect(hashes.size).toBe(rows.length);
    for (const row of rows) expect(hashes.get(row)).toBe(rowHash(TABLE, row));
  });

  it('stops once the other work has settled, leaving the rest to the sealer', async () => {
    const hashes = await rowHashesWhile(TABLE, rows, Promise.resolve());
    expect(hashes.size).toBeLessThan(rows.length);
  });

  it('lets the event loop run between chunks, so the check is sent and answered meanwhile', async () => {
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    await rowHashesWhile(TABLE, rows, never);
    clearInterval(ticking);
    expect(turns).toBeGreaterThan(0);
  });

  it('returns, without an unhandled rejection, when the other work fails: its caller sees that failure', async () => {
    const failing = Promise.reject(new Error('ClickHouse is down'));
    const hashes = await rowHashesWhile(TABLE, rows, failing);
    expect(hashes.size).toBeLessThan(rows.length);
    await expect(failing).rejects.toThrow('ClickHouse is down');
  });

  it('gives chainRows hashes it would compute itself: the chain and seal are the same with them, some or none', async () => {
    const some = new Map([...(await rowHashesWhile(TABLE, rows, never))].slice(0, 300));
    const plain = chainRows(TABLE, rows, GENESIS, '2026-12-06 03:00:00.000', 'k');
    expect(chainRows(TABLE, rows, GENESIS, '2026-12-06 03:00:00.000', 'k', some)).toEqual(plain);
    expect(chainRows(TABLE, rows, GENESIS, '2026-12-06 03:00:00.000', 'k', await rowHashesWhile(TABLE, rows, never))).toEqual(plain);
  });
});
