/**
 * V8 flags the server's processes run with (docs/performance.md has the
 * side-by-side figures):
 * - Semi-spaces of 32 MB (V8 stops growing them at 16 MB) let the
 *   short-lived objects of each request and each job die in fewer
 *   scavenges: 4–9 % less CPU per single-event post and p99 about 5 ms
 *   lower, for 40–60 MB more RSS per process.
 * - An old generation that may grow to 1.6× what survived the last full GC,
 *   not V8's up to 4×. The worker's held jobs die as garbage in the old
 *   generation, and under load its heap swung to 3× its live size: max RSS
 *   is about a quarter lower, at no CPU cost measured (40 % did cost).
 *
 * A running process cannot resize its young generation, so these are node
 * command-line flags: `npm start` and the Dockerfile give them to the main
 * process (a test holds both to this list), and the worker process gets
 * them from its fork, however the main process was started.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32', '--heap-growing-percent=60'];

/** `execArgv` plus each server flag it does not already set (one the operator gave wins). */
export function withServerNodeFlags(execArgv: readonly string[]): string[] {
  const named = (flag: string) => flag.split('=')[0]!;
  const given = new Set(execArgv.map(named));
  return [...execArgv, ...SERVER_NODE_FLAGS.filter((flag) => !given.has(named(flag)))];
}
