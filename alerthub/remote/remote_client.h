// Remote mode of alerthub::Client: the same API against a running AlertHub
// router, over its REST API and WebSocket (docs/api.md). Client::Open calls
// this when ClientOptions::endpoint is set; applications use Client::Open.
//
//   alerthub::ClientOptions options;
//   options.endpoint = "http://127.0.0.1:8080";
//   options.api_key = "ahk_...";
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<alerthub::Client> client,
//                             alerthub::OpenRemoteClient(options));
//
// How each call maps onto the API:
//
//   Submit       POST /api/v1/notifications (Idempotency-Key header from
//                SubmitOptions); only the submitter's fields are sent.
//   SubmitBatch  POST /api/v1/notifications/batch; each item's result or
//                problem becomes that item's StatusOr. The size (1-100) is
//                checked here, with the error embedded mode gives.
//   Get          GET /api/v1/notifications/{id}
//   ListEvents   GET /api/v1/notifications/{id}/events
//   List         GET /api/v1/notifications?status=&type=&since=&limit=&cursor=
//   Watch        WebSocket /api/v1/ws with a subscribe message carrying the
//                WatchOptions filter; reconnects until the handle is
//                destroyed (see internal/ws_watch.h).
//   CreateRule   POST /api/v1/rules (the rule's request fields)
//   GetRule      GET /api/v1/rules/{id}
//   ListRules    GET /api/v1/rules
//   UpdateRule   PUT /api/v1/rules/{id}
//   DeleteRule   DELETE /api/v1/rules/{id}
//   EvaluateRule POST /api/v1/rules/evaluate (the submitter's fields)
//
// Errors are the codes embedded mode returns (internal/http_mapping.h has
// the table): field errors of a 400/422 are readable with FieldErrorsOf, the
// RateLimit-* and Retry-After headers of a 429 with RateLimitInfoOf; 502,
// 503, 504 and transport failures (refused, reset, timeout) are
// kUnavailable.
//
// Retries: calls that are safe to repeat -- every GET, PUT and rule
// evaluation, and submissions the router deduplicates by key
// (SubmitOptions::idempotency_key set, or every notification has a
// dedup_key) -- are retried on kUnavailable up to 3
// times, 50/100/200 ms apart (jittered); a retried submission whose first
// attempt was in fact stored comes back with duplicate = true and the
// original id. A submission without a key is NOT retried once the request
// may have reached the router (timeout, reset, 502/503/504): the router may
// have stored it, and a blind retry could store it twice. Its kUnavailable
// reaches the caller, who can resubmit with an idempotency key. It is
// retried only when the connection could not be made at all (refused,
// unresolvable), as then nothing was sent. Each attempt is limited by
// ClientOptions::timeout (connecting by at most 5 s of it).
//
// SubmitOptions::idempotency_key travels as a header, so it must be 1-256
// printable ASCII characters (kInvalidArgument naming "Idempotency-Key"
// otherwise, as the router would answer).
//
// Connections: libcurl with keep-alive; idle connections are pooled and
// shared by the threads using the Client, so Open() itself does not contact
// the router. Redirects are not followed. Thread-safe.
#ifndef ALERTHUB_REMOTE_REMOTE_CLIENT_H_
#define ALERTHUB_REMOTE_REMOTE_CLIENT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "alerthub/client.h"

namespace alerthub {

// A Client for the router at `options.endpoint` ("http://host[:port]" or
// "https://host[:port]", nothing after an optional "/"), authenticating with
// `options.api_key`; the embedded settings of `options` are ignored.
// kInvalidArgument with a field error ("endpoint", "api_key", "timeout")
// when an option is unusable. Does not contact the router.
absl::StatusOr<std::unique_ptr<Client>> OpenRemoteClient(const ClientOptions& options);

}  // namespace alerthub

#endif  // ALERTHUB_REMOTE_REMOTE_CLIENT_H_
