import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { restrictedSummary } from './analyst-app-restriction';
import { clickHouseException, type ClickHouseException } from '../../lib/clickhouse-exception';
import type { Logger } from '../../lib/logger';
import { requestActor, type PrivilegedActionAuditor } from '../audit/privileged-action-auditor';
import { analystQueried } from '../audit/privileged-actions';
import type { AnalystQueryService } from './analyst-query.service';
import { credentialOf, readAnalystQuery, urlParameters, userOf } from './clickhouse-http-request';
import { sendException, sendResult } from './clickhouse-http-response';

/** Largest query text accepted (ClickHouse's max_query_size is 256 KiB; a body here holds no insert data). */
const QUERY_BODY_LIMIT = '1mb';

/** The database name @clickhouse/client reads from a URL ending in /clickhouse. */
const DATABASE_PATH = 'clickhouse';

/** body-parser's failures, as ClickHouse names them. */
function bodyException(error: { type?: string; message?: string }): ClickHouseException {
  if (error.type === 'entity.too.large') return clickHouseException('QUERY_IS_TOO_LARGE', `The query is larger than ${QUERY_BODY_LIMIT}`);
  if (error.type === 'encoding.unsupported') return clickHouseException('UNKNOWN_COMPRESSION_METHOD', error.message ?? 'Unknown Content-Encoding');
  return clickHouseException('SYNTAX_ERROR', `Cannot read the request body: ${error.message ?? 'unknown error'}`);
}

/**
 * /clickhouse: ClickHouse's HTTP interface, read-only, for analysts' tools
 * (curl, @clickhouse/client, BI tools). Answers in ClickHouse's text and
 * error format rather than auditflow's JSON, because those clients parse it.
 */
export function clickHouseHttpRoutes(service: AnalystQueryService, logger: Logger, audit: PrivilegedActionAuditor): Router {
  const router = Router();
  const readBody = express.raw({ type: () => true, limit: QUERY_BODY_LIMIT });

  // Like ClickHouse's /ping: liveness of the HTTP server, no credentials.
  const ping = (_req: Request, res: Response) => void res.type('text/plain').send('Ok.\n');
  router.get('/clickhouse/ping', ping);

  const query = async (req: Request, res: Response): Promise<void> => {
    const url = urlParameters(req);
    // A GET without a query is ClickHouse's health check.
    if (req.method === 'GET' && !url.has('query') && !(Buffer.isBuffer(req.body) && req.body.length > 0)) {
      res.type('text/plain').send('Ok.\n');
      return;
    }
    const key = await service.authenticate(credentialOf(req, url), userOf(req, url));
    if ('code' in key) return sendException(res, key);
    // The key is the actor: the api_access row of this request records it.
    res.locals.ctx.actor = { type: 'api_key', id: key.id, name: key.name };
    const read = readAnalystQuery(req, url);
    if ('code' in read) return sendException(res, read);
    // The restriction comes from the key alone.
    const request = { ...read, apps: key.apps };
    const started = performance.now();
    // Delivered within the query's place among those in flight: the result is held, and compressed, until sent.
    await service.run(request, async (outcome) => {
      // Every query a key ran or was refused: who, its hash and text, and what it read.
      audit.record(requestActor(res.locals.ctx), analystQueried(request, outcome.type === 'result' ? outcome.result : { refused: `${outcome.exception.name}: ${outcome.exception.message}` }, started));
      if (outcome.type === 'exception') return sendException(res, outcome.exception, request.queryId);
      // Rows read count every app's rows before the filters: a restricted key is not told them.
      const result = key.apps ? { ...outcome.result, summary: restrictedSummary(outcome.result.summary) } : outcome.result;
      await sendResult(req, res, result, request.queryId, request.settings);
    });
  };

  const withBody = (req: Request, res: Response): void => {
    readBody(req, res, (error?: unknown) => {
      if (error) return sendException(res, bodyException(error as { type?: string; message?: string }));
      void query(req, res).catch((e: unknown) => {
        // Not ClickHouse's verdict (PostgreSQL or Redis down, a bug): logged here, answered in ClickHouse's format.
        const requestId = res.locals.ctx.requestId;
        logger.error({ err: e, requestId }, 'analyst query failed');
        if (!res.headersSent) sendException(res, clickHouseException('UNKNOWN_EXCEPTION', `Internal error (request ${requestId})`));
      });
    });
  };
  router.get('/clickhouse', withBody);
  router.post('/clickhouse', withBody);

  // Clients given url …/clickhouse, or the DSN http://user:key@host:3000/clickhouse, take the path for a
  // database name: @clickhouse/client sends to / with database=clickhouse, clickhouse-connect sends its
  // first queries to / with no database at all; both ping /ping. Serve the root as ClickHouse's interface
  // too: every POST (nothing else posts to /), and a GET that names the database or carries a query.
  // Any other GET / is the landing page's (the dashboard routes).
  const atRoot = (req: Request, res: Response, next: NextFunction): void => {
    const url = urlParameters(req);
    if (req.method === 'POST' || url.get('database') === DATABASE_PATH || url.has('query')) withBody(req, res);
    else next();
  };
  router.get('/', atRoot);
  router.post('/', atRoot);
  router.get('/ping', ping);
  return router;
}
