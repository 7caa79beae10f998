import { DiskRecovery } from '../../src/features/ingest/writer/disk-recovery';

describe('DiskRecovery', () => {
  it('says so once, on the first measurement with room after the disk was low', () => {
    const disk = new DiskRecovery(100);
    expect([500, 400, 50, 0, 99, 100, 500, 50, 120].map((bytes) => disk.recovered(bytes))).toEqual([false, false, false, false, false, true, false, false, true]);
  });

  it('never, when the disk was never low', () => {
    const disk = new DiskRecovery(100);
    expect([100, 1000, 100].some((bytes) => disk.recovered(bytes))).toBe(false);
  });
});
