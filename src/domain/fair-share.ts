/**
 * Fair shedding (docs/tenancy.md, "Ingest under load"): while the ingest
 * pipeline is saturated for a reason that admitting a little more cannot
 * turn into loss (a full backlog, lagging workers, a busy API process), the
 * posts of an app that has sent less than an equal share of the recently
 * accepted events are still admitted, and the apps at or above it are
 * refused. So one app's flood no longer refuses every other app's events.
 */

/** One app's part of the events accepted recently (AppIntake). */
export interface AppShare {
  /** Events accepted from this app. */
  mine: number;
  /** Events accepted from every app. */
  total: number;
  /** Apps that sent any of them, this one counted whether it did or not. */
  apps: number;
}

/**
 * Whether `events` more from the app keep it within an equal share of what
 * was accepted. Never for an app alone (its share is all of it): with one
 * app, shedding is exactly as without fairness. Nor with nothing accepted
 * recently, where there is no share to be within.
 */
export function withinFairShare(share: AppShare, events: number): boolean {
  return share.mine + events <= share.total / share.apps;
}

/**
 * The most events admitted this way while the pipeline stays saturated, as
 * a share of its backlog limit (MAX_QUEUE_BACKLOG): however many apps are
 * within their share (new ones have none yet), they cannot carry the
 * backlog more than a tenth past its limit before the pipeline is open again.
 */
export function saturatedAllowance(maxBacklogEvents: number): number {
  return Math.floor(maxBacklogEvents / 10);
}
