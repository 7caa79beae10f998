import { isUtf8 } from 'node:buffer';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../../lib/errors/app-error';
import type { ApiKeyService } from '../api-keys/api-key.service';
import { requireScope } from '../api-keys/require-scope';
import { decodeEventsBody, EVENTS_JSON_TYPES, NDJSON_TYPE } from './formats/events-body';
import { isUtf8Charset, verifyJsonBody } from '../../http/hostile-json';
import { linesNotUtf8 } from './formats/ndjson';
import { decodeOtlpLogsRequest, fromOtlpLogs, otlpLogsResponse, type OtlpFormat } from './formats/otlp-logs';
import type { IngestService } from './ingest.service';
import type { PostInFlight } from './posts-in-flight';

export function ingestRoutes(ingest: IngestService, keys: ApiKeyService, bodyLimitBytes: number): Router {
  const router = Router();
  const posts = new WeakMap<Response, PostInFlight>();
  const admit = (req: Request, res: Response, next: NextFunction) => {
    const post = ingest.admit(res.locals.apiKey!.app, bodyBytesOf(req, bodyLimitBytes));
    posts.set(res, post);
    res.once('close', post.done);
    next();
  };
  const bodyArrived = (_req: Request, res: Response, next: NextFunction) => {
    posts.get(res)?.bodyArrived();
    next();
  };
  const json = undecodableIsBadRequest(express.json({ limit: bodyLimitBytes, strict: false, type: () => true, verify: verifyJsonBody }));
  // NDJSON lines are events of their own: a line that is not UTF-8 is refused, not the batch.
  const notUtf8 = new WeakMap<object, Set<number>>();
  const text = undecodableIsBadRequest(
    express.text({
      limit: bodyLimitBytes,
      type: () => true,
      verify: (req, _res, body, encoding) => {
        if (isUtf8Charset(encoding) && !isUtf8(body)) notUtf8.set(req, linesNotUtf8(body));
      },
    }),
  );
  const raw = undecodableIsBadRequest(express.raw({ limit: bodyLimitBytes, type: () => true }));

  router.post(
    '/v1/events',
    requireScope(keys, 'ingest'),
    (req, _res, next) => {
      if (!req.is([...EVENTS_JSON_TYPES, NDJSON_TYPE])) {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the events as JSON (application/json), NDJSON (application/x-ndjson) or CloudEvents');
      }
      next();
    },
    admit,
    (req, res, next) => (req.is(NDJSON_TYPE) ? text : json)(req, res, next),
    bodyArrived,
    async (req, res) => {
      const result = await ingest.ingestDecoded(res.locals.apiKey!.app, decodeEventsBody(req, ingest.checkCount, notUtf8.get(req)));
      res.status(result.status).json(result.body);
    },
  );

  // OTLP/HTTP logs, as OpenTelemetry exporters and the Collector's otlphttp exporter send them.
  router.post(
    '/v1/logs',
    requireScope(keys, 'ingest'),
    (req, _res, next) => {
      if (!req.is(['application/x-protobuf', 'application/json'])) {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send OTLP logs as application/x-protobuf or application/json');
      }
      next();
    },
    admit,
    raw,
    bodyArrived,
    async (req, res) => {
      const format: OtlpFormat = req.is('application/x-protobuf') ? 'protobuf' : 'json';
      const events = fromOtlpLogs(decodeOtlpLogsRequest(req.body as Buffer, format), ingest.checkCount);
      // 200 even when records were refused, all of them included: the export was understood, and
      // partial_success tells the exporter which records failed and why (resending would not help).
      const result = events.length === 0 ? null : await ingest.ingestDecoded(res.locals.apiKey!.app, events);
      const response = otlpLogsResponse(result, format);
      res.status(200).type(response.contentType).send(response.body);
    },
  );
  return router;
}

/**
 * The bytes a post's body will take in memory as it is read: its Content-Length,
 * or the body limit when it sends none or is compressed (the limit counts the
 * inflated body).
 */
function bodyBytesOf(req: Request, bodyLimitBytes: number): number {
  const encoding = (req.get('content-encoding') ?? 'identity').trim().toLowerCase();
  const length = req.get('content-length');
  if (encoding !== 'identity' || length === undefined || !/^\d+$/.test(length.trim())) return bodyLimitBytes;
  return Math.min(Number(length), bodyLimitBytes);
}

/** A gzip body that does not inflate is the client's error: body-parser reports it without a type, which would read as a 500. */
function undecodableIsBadRequest(parser: RequestHandler): RequestHandler {
  return (req, res, next) =>
    parser(req, res, (error?: unknown) => {
      const e = error as { type?: string; status?: number } | undefined;
      if (e && e.type === undefined && e.status === 400) return next(new AppError('BAD_REQUEST', 'the body could not be decompressed'));
      next(error);
    });
}
