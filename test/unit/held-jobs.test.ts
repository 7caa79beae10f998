import { HeldJobs, waitingSince } from '../../src/features/ingest/held-jobs';

describe('HeldJobs', () => {
  it('holds nothing at first', () => {
    expect(new HeldJobs().oldest()).toBeNull();
  });

  it('answers the earliest time a held job has waited since, whatever the order it was taken in', () => {
    const held = new HeldJobs();
    held.hold('a', 2000);
    held.hold('b', 1000);
    held.hold('c', 3000);
    expect(held.oldest()).toBe(1000);
    held.release('b');
    expect(held.oldest()).toBe(2000);
    held.release('a');
    held.release('c');
    expect(held.oldest()).toBeNull();
  });

  it('forgets a job released twice once (a job re-taken after a stall holds again)', () => {
    const held = new HeldJobs();
    held.hold('a', 1000);
    held.release('a');
    held.release('a');
    held.hold('a', 5000);
    expect(held.oldest()).toBe(5000);
  });
});

describe('waitingSince', () => {
  it('counts a first attempt, and a stalled job re-run after its worker died, from when it was queued', () => {
    expect(waitingSince({ attemptsMade: 0, timestamp: 1000, processedOn: 9000 })).toBe(1000);
  });

  it('counts a retry from when this attempt began, not from the failures before it', () => {
    // Queued at 1 s, failed through a minute-long outage, taken again at 61 s.
    expect(waitingSince({ attemptsMade: 3, timestamp: 1000, processedOn: 61_000 })).toBe(61_000);
    expect(waitingSince({ attemptsMade: 3, timestamp: 1000 }, 62_000)).toBe(62_000);
  });
});
