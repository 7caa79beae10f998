import { diskRoomAgain, WriterHealth } from '../../src/features/ingest/writer/writer-health';

/** What the worker's once-a-second watch says for each measurement, in order. */
function roomAgainSequence(measurements: number[], minFreeBytes: number): boolean[] {
  const health = new WriterHealth();
  return measurements.map((bytes) => {
    const roomAgain = diskRoomAgain(health.snapshot(), bytes, minFreeBytes);
    health.noteFreeBytes(bytes);
    return roomAgain;
  });
}

describe('diskRoomAgain', () => {
  it('says so once, on the first measurement with room after the disk was low', () => {
    expect(roomAgainSequence([500, 400, 50, 0, 99, 100, 500, 50, 120], 100)).toEqual([false, false, false, false, false, true, false, false, true]);
  });

  it('never, when the disk was never low', () => {
    expect(roomAgainSequence([100, 1000, 100], 100).some(Boolean)).toBe(false);
  });
});
