// alerthub::Client — the facade applications embed to send, track and watch
// notifications. The same API runs the engine in-process (embedded mode:
// SQLite file, in-process bus) or talks to a remote AlertHub router over
// HTTP (remote mode, chosen by setting `endpoint`).
//
// Example (embedded):
//
//   #include "alerthub/client.h"
//
//   alerthub::ClientOptions options;
//   options.store = "sqlite:///var/lib/myapp/alerthub.db";
//   absl::StatusOr<std::unique_ptr<alerthub::Client>> client =
//       alerthub::Client::Open(options);
//   if (!client.ok()) return client.status();
//
//   alerthub::Notification n;
//   n.type = "deploy.finished";
//   n.title = "v2.3.1 is live";
//   n.priority = alerthub::Priority::kHigh;
//   n.tags = {{"env", "prod"}};
//   absl::StatusOr<alerthub::SubmitResult> r = (*client)->Submit(n);
//   if (!r.ok()) {
//     // kInvalidArgument: alerthub::FieldErrorsOf(r.status()) names each field.
//     // kResourceExhausted: alerthub::RateLimitInfoOf(r.status())->retry_after.
//     return r.status();
//   }
//   // r->id is durable here; r->duplicate says it repeated an earlier one.
//
//   absl::StatusOr<alerthub::Notification> got = (*client)->Get(r->id);
//   absl::StatusOr<std::vector<alerthub::CloudEvent>> events = (*client)->ListEvents(r->id);
//
//   // Follow status changes until the handle is destroyed.
//   auto watch = (*client)->Watch({}, [](const alerthub::StatusUpdate& u) {
//     std::cout << u.id << " is now " << alerthub::NotificationStatusName(u.status) << "\n";
//   });
//
// Thread safety: a Client is safe for concurrent use from multiple threads.
// Errors are absl::Status values; no exception crosses this API.
#ifndef ALERTHUB_CLIENT_H_
#define ALERTHUB_CLIENT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "alerthub/common/status.h"
#include "alerthub/model/event.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/rule.h"
#include "alerthub/pipeline/pipeline.h"
#include "alerthub/pipeline/realtime.h"
#include "nlohmann/json.hpp"

namespace alerthub {

struct ClientOptions {
  // --- Embedded mode (endpoint empty) ---
  // Adapter URLs; see alerthub/adapters/registry.h.
  std::string store = "sqlite://alerthub.db";
  std::string bus = "inproc://";
  std::string queue = "sql://";
  std::string kv = "memory://";
  // The tenant this client acts as; created on first use.
  std::string tenant = "default";
  // Ingest settings (rate limits, dedup window, group commit).
  PipelineOptions pipeline;

  // --- Remote mode ---
  // Base URL of an AlertHub router, e.g. "http://localhost:8080". When set,
  // the embedded settings above are ignored.
  std::string endpoint;
  // The tenant's API key (ahk_...).
  std::string api_key;
  // Per-request timeout in remote mode.
  absl::Duration timeout = absl::Seconds(10);
};

struct SubmitOptions {
  // Makes the submission idempotent under this key (the Idempotency-Key
  // header in remote mode) when the notification has no dedup_key.
  std::string idempotency_key;
};

struct ListOptions {
  std::optional<NotificationStatus> status;
  std::string type;                  // exact; empty = any
  std::optional<absl::Time> since;   // created at or after
  int limit = 50;                    // 1-500
  std::string cursor;                // from the previous page's next_cursor
};

struct NotificationList {
  std::vector<Notification> items;  // newest first
  std::string next_cursor;          // empty on the last page
};

struct WatchOptions {
  std::vector<std::string> types;          // only these notification types; empty = all
  std::optional<Priority> min_priority;    // only at least this priority
  // Updates buffered for a slow callback; beyond this the oldest are dropped
  // (the store still has the truth: Get() reads it back).
  size_t max_queue = 10000;
};

// Ends its watch when destroyed; the callback is not called afterwards.
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
  // Updates dropped because the callback fell behind.
  virtual int64_t dropped() const = 0;
};

class Client {
 public:
  using UpdateCallback = std::function<void(const StatusUpdate& update)>;

  // Opens a client in embedded mode (`options.endpoint` empty) or remote mode.
  // Embedded: opens the store, creating and migrating it as needed, and the
  // tenant `options.tenant`; kInvalidArgument for a bad URL.
  static absl::StatusOr<std::unique_ptr<Client>> Open(const ClientOptions& options);

  virtual ~Client() = default;

  // Submits one notification. OK means durable. kInvalidArgument (with field
  // errors), kResourceExhausted (rate limited, with retry-after),
  // kUnavailable (retry).
  virtual absl::StatusOr<SubmitResult> Submit(const Notification& n,
                                              const SubmitOptions& options = {}) = 0;

  // Submits 1-100 notifications at once; one result per item in order. The
  // call itself fails only when the batch size is wrong, it is rate limited
  // or the store is unavailable.
  virtual absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> SubmitBatch(
      absl::Span<const Notification> items, const SubmitOptions& options = {}) = 0;

  // kNotFound when no notification of this tenant has this id.
  virtual absl::StatusOr<Notification> Get(absl::string_view id) = 0;

  // The notification's events (CloudEvents), oldest first; kNotFound as Get.
  virtual absl::StatusOr<std::vector<CloudEvent>> ListEvents(absl::string_view id) = 0;

  // One page of the tenant's notifications, newest first. kInvalidArgument
  // for a limit outside 1-500 or a malformed cursor.
  virtual absl::StatusOr<NotificationList> List(const ListOptions& options) = 0;

  // Calls `callback` for each status change of the tenant's notifications
  // from now on, on a thread owned by the handle, one call at a time.
  virtual absl::StatusOr<std::unique_ptr<WatchHandle>> Watch(
      const WatchOptions& options, UpdateCallback callback) = 0;

  // --- Routing rules (ARCHITECTURE §4 "Rule"; the /api/v1/rules routes) ---
  // Rules apply to this client's tenant. Embedded mode evaluates them with
  // the same engine the daemons route with (alerthub/rules).

  // Stores a new rule made of the request fields of `rule` (its id,
  // tenant_id and timestamps are ignored and assigned) and returns it as
  // stored. kInvalidArgument with field errors for an invalid rule, or (field
  // "") when the tenant has StoreLimits::kMaxRulesPerTenant rules already.
  virtual absl::StatusOr<Rule> CreateRule(const Rule& rule) = 0;

  // kNotFound when no rule of this tenant has this id.
  virtual absl::StatusOr<Rule> GetRule(absl::string_view id) = 0;

  // Every rule of the tenant, enabled or not, in evaluation order (ascending
  // position, then id).
  virtual absl::StatusOr<std::vector<Rule>> ListRules() = 0;

  // Replaces the request fields of the rule `rule.id` with those of `rule`
  // and returns it as stored. kNotFound as GetRule; kInvalidArgument as
  // CreateRule.
  virtual absl::StatusOr<Rule> UpdateRule(const Rule& rule) = 0;

  // kNotFound as GetRule.
  virtual absl::Status DeleteRule(absl::string_view id) = 0;

  // What the tenant's rules would do with `n` now, without sending anything
  // or counting throttles: the dry run as RoutingPlanToJson
  // (alerthub/rules/rules_resolver.h) shows it — "evaluation",
  // "deliveries", "suppressed", "effective_priority", ... kInvalidArgument
  // with field errors when `n` would not be accepted as a submission.
  virtual absl::StatusOr<nlohmann::json> EvaluateRule(const Notification& n) = 0;
};

// Cursor helpers shared by embedded and remote modes: a cursor is opaque to
// callers; it encodes the last id of the previous page.
std::string EncodeListCursor(absl::string_view last_id);
// kInvalidArgument ("cursor: is malformed") when `cursor` was not made by
// EncodeListCursor.
absl::StatusOr<std::string> DecodeListCursor(absl::string_view cursor);

}  // namespace alerthub

#endif  // ALERTHUB_CLIENT_H_
