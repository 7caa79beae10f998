import { unfinishedPeriod } from '../../src/domain/report';

const now = new Date('2026-12-04T19:00:00Z');

describe('a final report covers only a period that has ended', () => {
  it('accepts a period that ended before now, or exactly now', () => {
    expect(unfinishedPeriod(new Date('2026-12-03T00:00:00Z'), new Date('2026-12-04T00:00:00Z'), now)).toBeNull();
    expect(unfinishedPeriod(new Date('2026-12-04T18:00:00Z'), now, now)).toBeNull();
  });

  it('refuses today, with the reason and when it can be made', () => {
    expect(unfinishedPeriod(new Date('2026-12-04T00:00:00Z'), new Date('2026-12-05T00:00:00Z'), now)).toMatch(
      /^a final report covers only a period that has ended: .* has not ended \(now 2026-12-04T19:00:00.000Z\); generate it once 2026-12-05T00:00:00.000Z has passed$/,
    );
  });

  it('refuses a period in the future', () => {
    expect(unfinishedPeriod(new Date('2027-01-01T00:00:00Z'), new Date('2027-02-01T00:00:00Z'), now)).toMatch(/has not started/);
  });

  it('refuses a period ending one millisecond from now', () => {
    expect(unfinishedPeriod(new Date('2026-12-04T00:00:00Z'), new Date(now.getTime() + 1), now)).not.toBeNull();
  });
});
