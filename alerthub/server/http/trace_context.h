// Request correlation for AlertHub's HTTP transport: W3C Trace Context
// `traceparent` headers (version 00) and `X-Request-Id` values.
//
// The server validates what a client sends and starts a new span for each
// request; route code only reads Request::traceparent. These helpers are
// public so that other transports (the bus, outgoing webhooks) build and check
// the same headers the same way.
//
//   std::optional<TraceParent> in = ParseTraceparent(header);  // or nullopt
//   TraceParent ours = in ? in->NewChildSpan() : TraceParent::NewRoot();
//   headers.emplace_back("traceparent", ours.ToString());
#ifndef ALERTHUB_SERVER_HTTP_TRACE_CONTEXT_H_
#define ALERTHUB_SERVER_HTTP_TRACE_CONTEXT_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace alerthub::http {

// One W3C Trace Context (https://www.w3.org/TR/trace-context/) version-00
// traceparent: "00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>".
struct TraceParent {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};  // the spec's "parent-id"
  uint8_t flags = 0;                 // bit 0: sampled

  // A new trace: random non-zero trace-id and span-id, flags 01 (sampled:
  // AlertHub logs every request under its trace). Thread-safe.
  static TraceParent NewRoot();

  // The same trace and flags with a new random non-zero span-id: the span of
  // the work done on behalf of this one. Thread-safe.
  TraceParent NewChildSpan() const;

  // The canonical lowercase 55-character form.
  std::string ToString() const;

  bool operator==(const TraceParent&) const = default;
};

// Parses a version-00 traceparent. nullopt unless `header` is exactly
// 2-32-16-2 lowercase hex digits separated by '-', the version is "00", and
// neither the trace-id nor the parent-id is all zeros.
std::optional<TraceParent> ParseTraceparent(absl::string_view header);

// True when `id` is acceptable as a client-supplied X-Request-Id: 1 to 128
// printable ASCII characters (0x20-0x7E), so it is safe to log and echo.
bool IsValidRequestId(absl::string_view id);

}  // namespace alerthub::http

#endif  // ALERTHUB_SERVER_HTTP_TRACE_CONTEXT_H_
