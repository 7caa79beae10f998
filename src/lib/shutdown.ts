import type { Logger } from './logger';

/** One step of an ordered shutdown. */
export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown>;
}

/**
 * The phases of a shutdown, in the order they run. Nothing new comes in, then
 * what is in flight is finished and written, and only then do the
 * connections close: the embedded store last, as chDB crashes in its
 * teardown if the process exits with it open.
 */
export const SHUTDOWN_PHASES = [
  /** HTTP servers stop accepting; the scheduler stops ticking. */
  'stop intake',
  /** The API's own events reach Redis or the spool. */
  'own events',
  /** Workers finish their jobs while the writer goes on flushing. */
  'drain workers',
  /** The writer's last flush. */
  'final flush',
  /** Connections, in the reverse order of opening. */
  'close connections',
] as const;

export type ShutdownPhase = (typeof SHUTDOWN_PHASES)[number];

/** Steps filed under named phases; `run` goes through the phases in order, past a failing step so the rest still closes. */
export class ShutdownPlan {
  private readonly steps = new Map<ShutdownPhase, ShutdownStep[]>(SHUTDOWN_PHASES.map((phase) => [phase, []]));

  add(phase: ShutdownPhase, step: ShutdownStep): void {
    this.steps.get(phase)!.push(step);
  }

  /** A connection just opened: it closes after those opened later. */
  addConnection(name: string, close: () => Promise<unknown>): void {
    this.steps.get('close connections')!.unshift({ name, run: close });
  }

  /** The steps in the order `run` takes them. */
  ordered(): ShutdownStep[] {
    return SHUTDOWN_PHASES.flatMap((phase) => this.steps.get(phase)!);
  }

  async run(logger: Logger): Promise<boolean> {
    let clean = true;
    for (const step of this.ordered()) {
      try {
        await step.run();
        logger.debug({ step: step.name }, 'shutdown step done');
      } catch (error) {
        clean = false;
        logger.error({ err: error, step: step.name }, 'shutdown step failed');
      }
    }
    return clean;
  }
}
