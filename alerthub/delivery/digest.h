// Digests: a rule's `digest` action (ARCHITECTURE §4 "Rule"), with
// Prometheus Alertmanager's group_wait / group_interval semantics. Instead
// of one message per notification, the notifications of one digest group
// (tenant, integration, recipient, rule + group key) go out together as ONE
// summary: the group's first notification waits group_wait for others, and
// a group that flushed before sends again at most every group_interval.
//
// Everything is in the Store, so holds survive restarts:
//   routing    HoldForDigest() marks the plan's deliveries kHeld with a
//              digest_key; Store::RecordRouting stores each due at its
//              group's flush time (join the waiting flush, else
//              max(now + group_wait, last flush + group_interval)) in the
//              routing transaction, so concurrent routers agree.
//   delivery   each member has its own task, due at the flush time; the
//              first one run (DigestFlusher::ProcessTask) claims every due
//              member of the group in one transaction (Store::ClaimDigest),
//              renders ONE summary, sends it once and records the outcome
//              for every member in ONE RecordAttempts call. The other
//              members' tasks then find their delivery finished and are
//              acked (or dead-lettered, when it failed). Retries and
//              dead-lettering apply to the group as to one delivery: a
//              retry re-claims the members still waiting for it.
//
// The summary is rendered through the tenant's template named "digest" for
// the integration's channel when there is one (Store::FindTemplate), else
// through the built-in digest defaults (DefaultDigestFields). Its variables
// (DigestContext):
//   {{count}}           how many notifications
//   {{rule_id}} {{group_key}} {{digest_key}}
//   {{priority}}        the highest priority among them
//   {{title}}           "<count> notifications"
//   {{#notifications}}  one item per notification, oldest first:
//       {{id}} {{type}} {{title}} {{body}} {{priority}} {{created_at}}
//       {{tags.<name>}} {{data.<path>}}
//   {{/notifications}}
// A webhook without a "digest" template gets this JSON body (the
// notifications as NotificationToJson writes them):
//   {"type": "alerthub.digest", "rule_id", "group_key", "digest_key",
//    "count", "notifications": [...]}
//
//   DigestFlusher flusher(deps);
//   if (IsDigestTask) flusher.ProcessTask(task, tenant_id, delivery_id, traceparent);
//
// Thread-safe.
#ifndef ALERTHUB_DELIVERY_DIGEST_H_
#define ALERTHUB_DELIVERY_DIGEST_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerthub/delivery/catalog.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "alerthub/delivery/retry_policy.h"
#include "alerthub/model/delivery.h"
#include "alerthub/model/notification.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/store.h"
#include "alerthub/ports/task_queue.h"
#include "alerthub/rules/evaluator.h"
#include "nlohmann/json.hpp"

namespace alerthub {

// The name of the tenant's template a digest is rendered with (one per
// channel).
inline constexpr absl::string_view kDigestTemplateName = "digest";

// The window of a digest request.
DigestWindow DigestWindowOf(const DigestRequest& request);

// Routing's hook: holds every delivery of `w` for `request`'s digest (kHeld,
// digest_key set; their next_attempt_at, when set, is their earliest time),
// sets w->digest, and records the digest in the routing event's data
// ("digest": {"rule_id", "group_key", "group_wait_s", "group_interval_s"}).
void HoldForDigest(const DigestRequest& request, RoutingWrite* w);

// The template variables of a digest of `notifications` (see above).
nlohmann::json DigestContext(absl::string_view digest_key,
                             const std::vector<Notification>& notifications);

// The built-in digest template fields of `channel` (field -> mustache text).
// The webhook has none: its default is the JSON body above.
const std::map<std::string, std::string>& DefaultDigestFields(Channel channel);

// Renders the digest of `notifications` for `channel` with `tmpl` (the
// tenant's "digest" template) or, when null, the built-in defaults.
// kInvalidArgument as RenderForChannel.
absl::StatusOr<RenderedMessage> RenderDigest(Channel channel, const Template* tmpl,
                                             absl::string_view digest_key,
                                             const std::vector<Notification>& notifications);

// What a DigestFlusher borrows; every pointer must outlive it.
struct DigestFlusherDeps {
  Store* store = nullptr;
  TaskQueue* queue = nullptr;
  Catalog* catalog = nullptr;
  ChannelSender* sender = nullptr;
  Clock* clock = nullptr;
  // The default retry schedule (an integration's own wins).
  RetryPolicy retry;
  // How long a flush owns its group (DispatcherOptions::lease).
  absl::Duration lease = absl::Seconds(60);
  // Called after the send, with how it ended (metrics). May be empty.
  std::function<void(Channel channel, const SendResult& result)> on_attempt;
  // Publishes a notification's status change to realtime subscribers. May
  // be empty.
  std::function<void(const Notification& n, const StatusTransition& t)> publish;
};

// The delivery step for digest members' tasks.
class DigestFlusher {
 public:
  explicit DigestFlusher(DigestFlusherDeps deps);

  // Runs the task of digest member `delivery_id`: claims its group when due
  // and sends the summary (see above), then acks, reschedules or
  // dead-letters the task; a task whose group is not due yet, or busy, is
  // rescheduled; one whose delivery is finished is acked (dead-lettered
  // when it failed). Returns the first error; a task it could not finish
  // comes back when its lease ends, and so does the group's claim.
  absl::Status ProcessTask(const Task& task, absl::string_view tenant_id,
                           absl::string_view delivery_id, absl::string_view traceparent);

 private:
  struct Flush;  // one claimed group on its way to being recorded

  // Loads, renders and sends the claimed group; fills every member's write.
  absl::Status Send(Flush& f, absl::string_view traceparent);
  // Every member not failed yet fails permanently with `reason`, unsent.
  void FailAll(Flush& f, const std::string& reason);
  RetryDecision Decide(const Integration& integration, int attempt, const SendResult& r);

  const DigestFlusherDeps deps_;
  absl::Mutex rng_mu_;
  absl::BitGen rng_ ABSL_GUARDED_BY(rng_mu_);
};

}  // namespace alerthub

#endif  // ALERTHUB_DELIVERY_DIGEST_H_
