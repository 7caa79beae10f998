import { chainRows, GENESIS, sealTime, type ChainHead } from '../../src/domain/seal';

describe("a seal's time never goes back along its chain", () => {
  it('is the wall clock while it moves forward', () => {
    expect(sealTime('2026-12-04 12:00:01.000', '2026-12-04 12:00:00.500')).toBe('2026-12-04 12:00:01.000');
    expect(sealTime('2026-12-04 12:00:00.000', '')).toBe('2026-12-04 12:00:00.000');
  });

  it('holds the previous seal’s time while the clock is behind it', () => {
    expect(sealTime('2026-12-04 11:00:02.000', '2026-12-04 12:00:01.000')).toBe('2026-12-04 12:00:01.000');
    expect(sealTime('2026-12-04 12:00:01.000', '2026-12-04 12:00:01.000')).toBe('2026-12-04 12:00:01.000');
  });

  it('keeps a time range a run of consecutive seals when the clock steps back an hour and forward again', () => {
    // The wall clock at each flush: stepped back an hour after the second, forward again after the fourth.
    const clock = ['12:00:00.000', '12:00:01.000', '11:00:02.000', '11:00:03.000', '12:00:04.000', '12:00:05.000'].map((t) => `2026-12-04 ${t}`);
    let head: ChainHead = GENESIS;
    const seals = clock.map((now, i) => {
      const { seal } = chainRows('audit_logs', [{ event_id: `e${i}` }], head, sealTime(now, head.sealedAt), 'k');
      head = { seq: seal.seq, sealHash: seal.seal_hash, lastRowHash: seal.last_hash, sealedAt: seal.sealed_at };
      return seal;
    });
    expect(seals.map((s) => s.sealed_at.slice(11))).toEqual(['12:00:00.000', '12:00:01.000', '12:00:01.000', '12:00:01.000', '12:00:04.000', '12:00:05.000']);
    // What verify --from/--to selects: sealed_at in [from, to). Every split gives consecutive seqs, and two ranges all seals once.
    const inRange = (from: string, to: string) => seals.filter((s) => s.sealed_at >= `2026-12-04 ${from}` && s.sealed_at < `2026-12-04 ${to}`).map((s) => s.seq);
    for (const split of ['11:00:00.000', '12:00:01.000', '12:00:02.000', '12:00:05.000']) {
      const [a, b] = [inRange('10:00:00.000', split), inRange(split, '13:00:00.000')];
      expect([...a, ...b]).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });
});
