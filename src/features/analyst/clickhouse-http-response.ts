import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Request, Response } from 'express';
import { clickHouseExceptionText, httpStatusOfClickHouseException, type ClickHouseException } from '../../lib/clickhouse-exception';
import type { AnalystQueryResult } from './analyst-query-runner';

const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);
const brotli = promisify(zlib.brotliCompress);

/**
 * Level 3, as ClickHouse's http_zlib_compression_level. Node's defaults cost far more: brotli at
 * quality 11 spent about 1.5 s of CPU per MB of text that does not repeat, minutes for a result at
 * the byte cap (test/security/analyst-compression-cost.test.ts).
 */
const COMPRESSION_LEVEL = 3;
const COMPRESSORS: Record<string, (body: Buffer) => Promise<Buffer>> = {
  gzip: (body) => gzip(body, { level: COMPRESSION_LEVEL }),
  deflate: (body) => deflate(body, { level: COMPRESSION_LEVEL }),
  br: (body) => brotli(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: COMPRESSION_LEVEL, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
};

/** The Content-Type ClickHouse sends with a format. */
export function contentTypeOf(format: string): string {
  const f = format.toLowerCase();
  if (/^(json|ndjson|jsonl|prettyjson)/.test(f)) return 'application/json; charset=UTF-8';
  if (/^(tabseparated|tsv)/.test(f)) return 'text/tab-separated-values; charset=UTF-8';
  if (f.startsWith('csv')) return `text/csv; charset=UTF-8; header=${f.includes('withnames') ? 'present' : 'absent'}`;
  if (f === 'xml') return 'application/xml; charset=UTF-8';
  if (/^(native|rowbinary|parquet|arrow|orc|avro|msgpack|protobuf|capnproto|bson|npy|rawblob)/.test(f)) return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}

/** The first codec the client accepts that Node can write, when the analyst asked for compression (enable_http_compression=1, as ClickHouse requires). */
function responseCodec(req: Request, settings: Record<string, string>): string | null {
  if (!/^(1|true)$/i.test(settings.enable_http_compression ?? '')) return null;
  const accepted = (req.get('accept-encoding') ?? '').split(',').map((e) => e.trim().split(';')[0]!.toLowerCase());
  return accepted.find((codec) => codec in COMPRESSORS) ?? null;
}

/** A query's result, with the headers ClickHouse sends; compressed when asked. */
export async function sendResult(req: Request, res: Response, result: AnalystQueryResult, queryId: string, settings: Record<string, string>): Promise<void> {
  res.set({
    'Content-Type': contentTypeOf(result.format),
    'X-ClickHouse-Query-Id': queryId,
    'X-ClickHouse-Format': result.format,
    'X-ClickHouse-Summary': JSON.stringify(result.summary),
    'X-ClickHouse-Server-Display-Name': 'auditflow',
  });
  const codec = responseCodec(req, settings);
  if (!codec) {
    res.status(200).send(result.body);
    return;
  }
  res.set('Content-Encoding', codec);
  res.status(200).send(await COMPRESSORS[codec]!(result.body));
}

/**
 * A ClickHouse exception, as ClickHouse answers one: its text, its code in
 * X-ClickHouse-Exception-Code, and an HTTP status (httpStatusOfClickHouseException).
 * A failed authentication is 401 with a Basic challenge (ClickHouse says
 * 403), so curl, browsers and BI tools ask for the key.
 */
export function sendException(res: Response, exception: ClickHouseException, queryId?: string): void {
  const authentication = exception.name === 'AUTHENTICATION_FAILED';
  if (authentication) res.set('WWW-Authenticate', 'Basic realm="auditflow /clickhouse", charset="UTF-8"');
  if (queryId) res.set('X-ClickHouse-Query-Id', queryId);
  // Busy, not broken: a well-behaved client waits and retries.
  if (exception.name === 'TOO_MANY_SIMULTANEOUS_QUERIES') res.set('Retry-After', '1');
  res
    .status(authentication ? 401 : httpStatusOfClickHouseException(exception))
    .set({ 'Content-Type': 'text/plain; charset=UTF-8', 'X-ClickHouse-Exception-Code': String(exception.code) })
    .send(clickHouseExceptionText(exception));
}
