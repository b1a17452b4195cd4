// OTLP/HTTP protobuf encoding for logs: the messages of opentelemetry-proto v1 that a logs export
// needs (collector/logs/v1/logs_service.proto, logs/v1/logs.proto, common/v1/common.proto,
// resource/v1/resource.proto; field numbers as published), parsed once by protobufjs. Decoding
// gives the same lowerCamelCase object shape as the OTLP JSON encoding, so one mapper serves both.
import { parse } from 'protobufjs';

const PROTO = `
syntax = "proto3";
package opentelemetry.proto;

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope {
  string name = 1;
  string version = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}
message Resource {
  repeated KeyValue attributes = 1;
  uint32 dropped_attributes_count = 2;
}
message LogRecord {
  fixed64 time_unix_nano = 1;
  fixed64 observed_time_unix_nano = 11;
  int32 severity_number = 2;
  string severity_text = 3;
  AnyValue body = 5;
  repeated KeyValue attributes = 6;
  uint32 dropped_attributes_count = 7;
  fixed32 flags = 8;
  bytes trace_id = 9;
  bytes span_id = 10;
  string event_name = 12;
}
message ScopeLogs {
  InstrumentationScope scope = 1;
  repeated LogRecord log_records = 2;
  string schema_url = 3;
}
message ResourceLogs {
  Resource resource = 1;
  repeated ScopeLogs scope_logs = 2;
  string schema_url = 3;
}
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ExportLogsPartialSuccess {
  int64 rejected_log_records = 1;
  string error_message = 2;
}
message ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1; }
// google.rpc.Status, the body of an OTLP/HTTP error response.
message Status {
  int32 code = 1;
  string message = 2;
}
`;

const root = parse(PROTO, { keepCase: false }).root;
const Request = root.lookupType('opentelemetry.proto.ExportLogsServiceRequest');
const Response = root.lookupType('opentelemetry.proto.ExportLogsServiceResponse');
const Status = root.lookupType('opentelemetry.proto.Status');

/** Binary ExportLogsServiceRequest → the OTLP JSON object shape (int64 as strings). Throws on bad input. */
export function decodeLogsRequest(body: Uint8Array): unknown {
  return Request.toObject(Request.decode(body), { longs: String, bytes: String, defaults: false, arrays: true });
}

export function encodeLogsResponse(partial: { rejectedLogRecords: number; errorMessage: string } | null): Uint8Array {
  return Response.encode(Response.fromObject(partial ? { partialSuccess: partial } : {})).finish();
}

export function encodeStatus(code: number, message: string): Uint8Array {
  return Status.encode(Status.fromObject({ code, message })).finish();
}

/** Binary ExportLogsServiceResponse → object (clients and tests). */
export function decodeLogsResponse(body: Uint8Array): unknown {
  return Response.toObject(Response.decode(body), { longs: Number, defaults: false });
}
