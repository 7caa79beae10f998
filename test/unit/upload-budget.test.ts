import { UploadBudget } from '../../src/features/ingest/upload-budget';

describe('UploadBudget', () => {
  it('refuses an app past its own bytes while other apps are still let in, and gives bytes back once', () => {
    const budget = new UploadBudget(100, 250);
    const first = budget.reserve('a', 60);
    expect(typeof first).toBe('function');
    expect(budget.reserve('a', 60)).toBe('app');
    const other = budget.reserve('b', 90);
    expect(typeof other).toBe('function');
    (first as () => void)();
    (first as () => void)();
    expect(budget.reserved()).toBe(90);
    expect(typeof budget.reserve('a', 100)).toBe('function');
  });

  it('refuses every app past the total, but never the first body of an app or of the process for its size alone', () => {
    const budget = new UploadBudget(100, 150);
    expect(typeof budget.reserve('a', 500)).toBe('function');
    expect(budget.reserve('b', 10)).toBe('total');
    expect(typeof new UploadBudget(100, 150).reserve('c', 1000)).toBe('function');
  });

  it('is sized from the body limit, with floors for small limits', () => {
    expect(UploadBudget.forBodyLimit(5 * 1024 * 1024)).toMatchObject({ perAppBytes: 80 * 1024 * 1024, totalBytes: 320 * 1024 * 1024 });
    expect(UploadBudget.forBodyLimit(1024)).toMatchObject({ perAppBytes: 16 * 1024 * 1024, totalBytes: 64 * 1024 * 1024 });
  });
});
