import { HeldJobs } from '../../src/features/ingest/held-jobs';

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
