import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { Router, type RequestHandler } from 'express';

export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * Bull Board at /admin/queues: the queues' jobs, counts and failures, behind
 * `guard`. Read-only: removing or cleaning an ingest job would lose events
 * that are in neither ClickHouse nor the dead letters, and pausing a queue
 * stops ingestion; failed jobs are retried with `auditflow dlq replay`.
 */
export function queueBoardRoutes(queues: Queue[], guard: RequestHandler[]): Router {
  const adapter = new ExpressAdapter().setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'auditflow queues' } },
  });
  const boardApp = adapter.getRouter();
  boardApp.disable('x-powered-by');
  // Mounted, the board sees its own paths: its page is '/', its API '/api/…', its assets '/static/…'.
  const board = Router().use(QUEUE_BOARD_PATH, boardApp);

  const router = Router();
  // The page, as a route of its own: the operation the OpenAPI document lists.
  router.get(QUEUE_BOARD_PATH, ...guard, board);
  // Everything the page loads: the same guard (a browser resends Basic credentials by itself).
  router.use(QUEUE_BOARD_PATH, ...guard);
  router.use(board);
  return router;
}
