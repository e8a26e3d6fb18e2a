// CurlTransport: HTTP/1.1 requests to one router over libcurl, with
// keep-alive. Idle easy handles are pooled; each keeps its connection open,
// so a request reuses a warm connection whichever thread sends it.
//
//   CurlTransport transport({.base_url = "http://127.0.0.1:8080", .api_key = key});
//   bool maybe_sent = false;
//   absl::StatusOr<HttpResponse> r =
//       transport.Send({.method = "GET", .target = "/api/v1/notifications"}, &maybe_sent);
//
// Thread-safe. Every request carries X-API-Key, Accept: application/json and
// (with a body) Content-Type: application/json; redirects are not followed
// (a 3xx is returned like any other answer).
#ifndef ALERTHUB_REMOTE_INTERNAL_CURL_TRANSPORT_H_
#define ALERTHUB_REMOTE_INTERNAL_CURL_TRANSPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerthub/remote/internal/http_mapping.h"

namespace alerthub::remote_internal {

struct CurlTransportOptions {
  // scheme://authority with no trailing slash (Endpoint::base_url).
  std::string base_url;
  // Sent as X-API-Key on every request.
  std::string api_key;
  // Limit on one request, from connecting to the last byte of the answer.
  absl::Duration timeout = absl::Seconds(10);
  // Limit on establishing the connection (TCP and TLS); capped at `timeout`.
  absl::Duration connect_timeout = absl::Seconds(5);
  // Easy handles (each with its open connection) kept while idle; a burst of
  // concurrent callers beyond this opens extra ones, closed after use.
  size_t max_idle_handles = 16;
  // Larger answers fail the request with kInternal.
  size_t max_response_bytes = 32 * 1024 * 1024;
};

struct HttpRequest {
  std::string method = "GET";  // "GET", "POST", "PUT" or "DELETE"
  std::string target;          // path and query, "/api/v1/notifications?limit=5"
  std::string body;            // JSON; sent when method is POST or PUT
  // Extra header fields (e.g. Idempotency-Key).
  std::vector<std::pair<std::string, std::string>> headers;
};

class CurlTransport {
 public:
  explicit CurlTransport(CurlTransportOptions options);
  ~CurlTransport();
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  // Sends `request` and returns the answer whatever its HTTP status. Fails
  // only when no complete answer arrived: kUnavailable for transport
  // failures (connection refused, timeout, TLS, reset), kInternal for a
  // response larger than the limit. `*maybe_sent` says whether the server
  // may have received the request; it is false only when the connection
  // could not be made at all, so retrying cannot duplicate the request.
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request, bool* maybe_sent);

 private:
  void* Acquire();             // a CURL*; from the pool or new
  void Release(void* handle);  // back to the pool, or cleaned up

  const CurlTransportOptions options_;
  absl::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace alerthub::remote_internal

#endif  // ALERTHUB_REMOTE_INTERNAL_CURL_TRANSPORT_H_
