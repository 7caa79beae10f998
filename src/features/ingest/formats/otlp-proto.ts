/**
 * The OTLP logs messages, as the OpenTelemetry JS project generated them
 * with protobufjs (pbjs static code) from the official opentelemetry-proto
 * files: `opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest`
 * and `ExportLogsServiceResponse`, with every message they hold (LogRecord
 * with event_name, AnyValue, KeyValue, Resource, InstrumentationScope...).
 * protobufjs does all the wire decoding and encoding; a field a newer
 * exporter adds is skipped by the decoder, as protobuf intends.
 *
 * The code comes from `@opentelemetry/otlp-transformer@0.214.0`, installed
 * under the alias `otlp-transformer-generated` (package.json): the last
 * release that still ships the logs messages in
 * `build/src/generated/root.js` (0.215.0 dropped them for a hand-written
 * serialiser). Only that file is loaded; it needs nothing but
 * `protobufjs/minimal`.
 */
import { isUtf8 } from 'node:buffer';
import path from 'node:path';
import generatedRoot = require('otlp-transformer-generated/build/src/generated/root');

/** protobufjs's toObject options (IConversionOptions), as far as the decoder uses them. */
export interface ConversionOptions {
  longs?: StringConstructor | NumberConstructor;
  enums?: StringConstructor;
  bytes?: StringConstructor | ArrayConstructor;
  defaults?: boolean;
  arrays?: boolean;
  objects?: boolean;
  oneofs?: boolean;
  json?: boolean;
}

/** protobufjs's Node reader, as far as a subclass of it needs. */
interface BufferReader {
  buf: Buffer;
  pos: number;
  len: number;
  uint32(): number;
}
type BufferReaderClass = new (buffer: Buffer) => BufferReader;

/** A pbjs-generated message class: only the static methods auditflow calls. */
export interface GeneratedMessage {
  decode(reader: Uint8Array | BufferReader): object;
  toObject(message: object, options?: ConversionOptions): Record<string, unknown>;
  fromObject(object: Record<string, unknown>): object;
  encode(message: object): { finish(): Uint8Array };
}

interface LogsServiceV1 {
  ExportLogsServiceRequest: GeneratedMessage;
  ExportLogsServiceResponse: GeneratedMessage;
}

// The package's root.d.ts types the module as a reflection Root, which it is
// not (pbjs static code exports plain namespaces): the path is typed here.
const logs = (generatedRoot as unknown as { opentelemetry: { proto: { collector: { logs: { v1: LogsServiceV1 } } } } }).opentelemetry.proto.collector.logs.v1;

export const ExportLogsServiceRequest: GeneratedMessage = logs.ExportLogsServiceRequest;
export const ExportLogsServiceResponse: GeneratedMessage = logs.ExportLogsServiceResponse;

/**
 * The protobufjs the generated code was built with: a reader it is handed
 * must be an instance of that copy's Reader, or decode wraps it again.
 */
const generatedDir = path.dirname(require.resolve('otlp-transformer-generated/build/src/generated/root'));
const protobufMinimal = require(require.resolve('protobufjs/minimal', { paths: [generatedDir] })) as { BufferReader: BufferReaderClass };

/** Thrown by the strict reader: a string field whose bytes are not UTF-8. */
export class NotUtf8StringError extends Error {}

/**
 * protobufjs's reader, except that a string field whose bytes are not UTF-8
 * is refused instead of being read with U+FFFD in place of the bad bytes
 * (protobuf requires UTF-8 in `string` fields; the stored record would not be
 * what the exporter sent). `bytes` fields are untouched.
 */
class StrictUtf8Reader extends protobufMinimal.BufferReader {
  string(): string {
    const length = this.uint32();
    const start = this.pos;
    const end = Math.min(start + length, this.len);
    this.pos = end;
    if (!isUtf8(this.buf.subarray(start, end))) throw new NotUtf8StringError('a string field is not UTF-8');
    return this.buf.toString('utf8', start, end);
  }
}

/** An ExportLogsServiceRequest decoded with string fields held to UTF-8 (NotUtf8StringError otherwise). */
export function decodeExportLogsServiceRequest(body: Buffer): object {
  return ExportLogsServiceRequest.decode(new StrictUtf8Reader(body));
}
