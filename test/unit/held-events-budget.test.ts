import { HeldEventsBudget } from '../../src/features/ingest/held-events-budget';

describe('HeldEventsBudget', () => {
  it('starts at the configured concurrency', () => {
    expect(new HeldEventsBudget(50_000, 200).concurrency()).toBe(200);
  });

  it('keeps jobs of the typical size near the configured concurrency', () => {
    const budget = new HeldEventsBudget(50_000, 200);
    for (let i = 0; i < 100; i++) budget.take(20);
    expect(budget.concurrency()).toBe(200);
  });

  it('leaves room for as many more large jobs as the rest of the budget holds, then for none', () => {
    const budget = new HeldEventsBudget(10_000, 200);
    for (let i = 0; i < 60; i++) budget.take(1000);
    // The average has learnt the size; 60,000 held is past the budget: only the jobs held.
    expect(budget.held()).toEqual({ jobs: 60, events: 60_000 });
    expect(budget.concurrency()).toBe(60);
    for (let i = 0; i < 55; i++) budget.release(1000);
    // 5,000 held, room for about 5 more of ~1,000.
    const c = budget.concurrency();
    expect(c).toBeGreaterThan(5);
    expect(c).toBeLessThanOrEqual(5 + 6);
  });

  it('always lets one job run, however large', () => {
    const budget = new HeldEventsBudget(100, 200);
    expect(budget.take(5_000)).toBe(1);
    expect(budget.release(5_000)).toBeGreaterThanOrEqual(1);
    expect(budget.held()).toEqual({ jobs: 0, events: 0 });
  });

  it('is back to the configured concurrency once small jobs are the rule again', () => {
    const budget = new HeldEventsBudget(50_000, 200);
    for (let i = 0; i < 50; i++) {
      budget.take(5_000);
      budget.release(5_000);
    }
    for (let i = 0; i < 200; i++) {
      budget.take(10);
      budget.release(10);
    }
    expect(budget.concurrency()).toBe(200);
  });
});
