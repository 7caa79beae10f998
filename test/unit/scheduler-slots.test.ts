import { dueSlots, SCHEDULED_TASKS, withCronMatcher, type CronSlotTask } from '../../src/roles/scheduler-role';

const at = (iso: string) => new Date(iso);
const ms = (iso: string) => Date.parse(iso);

describe('scheduled slots when the wall clock steps', () => {
  let tasks: (CronSlotTask & { destroy: () => void })[];
  beforeAll(() => {
    tasks = SCHEDULED_TASKS.map(withCronMatcher);
  });
  afterAll(() => {
    for (const t of tasks) t.destroy();
  });

  /** Sweeps at each time in turn; returns every slot enqueued, as `task@slot`. */
  const sweeps = (from: string, times: string[]) => {
    let swept = ms(from);
    const out: string[] = [];
    for (const t of times) {
      const next = dueSlots(tasks, swept, at(t));
      swept = next.swept;
      out.push(...next.due.map((d) => `${d.task.name}@${d.tick.toISOString().slice(0, 16)}`));
    }
    return out;
  };

  it('enqueues each slot once as the clock runs normally', () => {
    expect(sweeps('2026-12-03T23:59:00Z', ['2026-12-03T23:59:30Z', '2026-12-04T00:00:03Z', '2026-12-04T00:00:08Z', '2026-12-04T00:05:02Z', '2026-12-04T00:05:07Z'])).toEqual([
      'dead-letter-digest@2026-12-04T00:00',
      'report-daily_security_summary@2026-12-04T00:05',
    ]);
  });

  it('enqueues the slots a step forward jumped over, once each, with their own periods', () => {
    expect(sweeps('2026-12-03T23:04:00Z', ['2026-12-03T23:04:30Z', '2026-12-04T00:05:10Z', '2026-12-04T00:05:15Z'])).toEqual([
      'dead-letter-digest@2026-12-04T00:00',
      'report-daily_security_summary@2026-12-04T00:05',
    ]);
    const daily = SCHEDULED_TASKS.find((t) => t.name === 'report-daily_security_summary')!;
    expect(daily.period(at('2026-12-04T00:05:00Z'))).toEqual({ start: at('2026-12-03T00:00:00Z'), end: at('2026-12-04T00:00:00Z') });
  });

  it('enqueues nothing twice when a step back makes the clock pass the same slots again', () => {
    expect(
      sweeps('2026-12-04T00:04:00Z', [
        '2026-12-04T00:05:05Z', // the daily slot, on time
        '2026-12-03T23:05:10Z', // stepped back an hour
        '2026-12-03T23:59:58Z',
        '2026-12-04T00:00:05Z',
        '2026-12-04T00:05:05Z', // the same slots again: already done
        '2026-12-04T01:00:05Z',
      ]),
    ).toEqual(['report-daily_security_summary@2026-12-04T00:05', 'dead-letter-digest@2026-12-04T01:00']);
  });

  it('stepped back just before a slot and forward again past it (the fault row): the slot is enqueued once, after the step forward', () => {
    expect(sweeps('2026-12-04T00:04:00Z', ['2026-12-04T00:04:50Z', '2026-12-03T23:04:55Z', '2026-12-03T23:05:05Z', '2026-12-04T00:05:12Z', '2026-12-04T00:05:17Z'])).toEqual([
      'report-daily_security_summary@2026-12-04T00:05',
    ]);
  });

  it('catches up at most a day of slots after a longer step', () => {
    const slots = sweeps('2026-12-01T00:00:00Z', ['2026-12-04T00:06:00Z']);
    expect(slots.filter((s) => s.startsWith('report-daily'))).toEqual(['report-daily_security_summary@2026-12-04T00:05']);
    expect(slots.filter((s) => s.startsWith('dead-letter-digest'))).toHaveLength(24);
  });
});
