import { saturatedAllowance, withinFairShare } from '../../src/domain/fair-share';
import { AppIntake } from '../../src/features/ingest/app-intake';

describe('withinFairShare', () => {
  it('never admits an app alone, whatever it sent: with one app shedding is as without fairness', () => {
    expect(withinFairShare({ mine: 0, total: 0, apps: 1 }, 1)).toBe(false);
    expect(withinFairShare({ mine: 5000, total: 5000, apps: 1 }, 1)).toBe(false);
  });

  it('admits an app below an equal share, and refuses the app above it', () => {
    const share = { total: 10_010, apps: 2 };
    expect(withinFairShare({ ...share, mine: 10 }, 1)).toBe(true);
    expect(withinFairShare({ ...share, mine: 10_000 }, 1)).toBe(false);
  });

  it('counts the events asked for: a batch that would carry the app past its share is refused', () => {
    expect(withinFairShare({ mine: 10, total: 1010, apps: 2 }, 495)).toBe(true);
    expect(withinFairShare({ mine: 10, total: 1010, apps: 2 }, 496)).toBe(false);
  });

  it('refuses apps sending equally: fairness lets no flood through, only the apps below the others', () => {
    expect(withinFairShare({ mine: 500, total: 1000, apps: 2 }, 1)).toBe(false);
  });

  it('gives a new app an equal share of what others sent, never more, and nothing when nobody sent anything', () => {
    expect(withinFairShare({ mine: 0, total: 900, apps: 3 }, 300)).toBe(true);
    expect(withinFairShare({ mine: 0, total: 900, apps: 3 }, 301)).toBe(false);
    expect(withinFairShare({ mine: 0, total: 0, apps: 2 }, 1)).toBe(false);
  });
});

it('the allowance while saturated is a tenth of the backlog limit', () => {
  expect(saturatedAllowance(500_000)).toBe(50_000);
  expect(saturatedAllowance(350)).toBe(35);
});

describe('AppIntake', () => {
  it("counts each app's accepted events, and every app's", () => {
    const intake = new AppIntake(5, 1000);
    intake.advance(0);
    intake.record('a', 100);
    intake.record('a', 50);
    intake.record('b', 3);
    expect(intake.share('a')).toEqual({ mine: 150, total: 153, apps: 2 });
    expect(intake.share('b')).toEqual({ mine: 3, total: 153, apps: 2 });
    // An app not seen counts as one more app, with nothing.
    expect(intake.share('c')).toEqual({ mine: 0, total: 153, apps: 3 });
  });

  it('forgets events older than the window, bucket by bucket, and drops the apps left with none', () => {
    const intake = new AppIntake(5, 1000);
    intake.advance(0);
    intake.record('a', 100);
    intake.advance(2500);
    intake.record('b', 10);
    intake.advance(4999);
    expect(intake.share('a')).toEqual({ mine: 100, total: 110, apps: 2 });
    intake.advance(5000);
    expect(intake.share('a')).toEqual({ mine: 0, total: 10, apps: 2 });
    expect(intake.size()).toBe(1);
    intake.advance(60_000);
    expect(intake.share('b')).toEqual({ mine: 0, total: 0, apps: 1 });
    expect(intake.size()).toBe(0);
  });

  it('forgets nothing while its time is held still (the pipeline saturated), and adds what comes in meanwhile', () => {
    const intake = new AppIntake(5, 1000);
    intake.advance(0);
    intake.record('flooder', 5000);
    // No advance: however long the saturation lasts, the flood is still what shares are measured by.
    for (let i = 0; i < 10; i++) intake.record('quiet', 1);
    expect(intake.share('flooder')).toEqual({ mine: 5000, total: 5010, apps: 2 });
    expect(intake.share('quiet').mine).toBe(10);
  });

  it('tracks a bounded number of apps; one beyond counts as having sent everything, never within its share', () => {
    const intake = new AppIntake(5, 1000, 3);
    intake.advance(0);
    for (const app of ['a', 'b', 'c', 'd']) intake.record(app, 10);
    expect(intake.size()).toBe(3);
    expect(withinFairShare(intake.share('d'), 1)).toBe(false);
    expect(withinFairShare(intake.share('e'), 1)).toBe(false);
  });
});
