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

/** A pbjs-generated message class: only the static methods auditflow calls. */
export interface GeneratedMessage {
  decode(reader: Uint8Array): object;
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
