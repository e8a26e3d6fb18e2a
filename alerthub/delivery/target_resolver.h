// TargetResolver: who gets an accepted notification — the seam between the
// routing step (delivery/dispatcher.h) and the rules engine (rules/), which
// replaces the default.
#ifndef ALERTHUB_DELIVERY_TARGET_RESOLVER_H_
#define ALERTHUB_DELIVERY_TARGET_RESOLVER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "alerthub/model/integration.h"
#include "alerthub/model/notification.h"
#include "alerthub/ports/store.h"

namespace alerthub {

// Who gets a notification. The rules engine replaces the default.
class TargetResolver {
 public:
  struct Target {
    Integration integration;  // as stored (sealed secrets)
    std::string recipient;    // user id for recipient-targeted channels
  };
  struct Decision {
    std::vector<Target> targets;
    // Why there are none, for the routing event; empty otherwise.
    std::string reason;
  };

  virtual ~TargetResolver() = default;

  // kUnavailable (and other store errors) are retried by the bus.
  virtual absl::StatusOr<Decision> Resolve(const Notification& n) = 0;
};

// ARCHITECTURE §4: the notification's explicit `integration_ids` (each must
// be the tenant's) and `channels` (every enabled integration of those
// channels); with neither, the tenant's enabled default integrations.
// Disabled integrations named explicitly are skipped with a reason.
class DefaultTargetResolver : public TargetResolver {
 public:
  explicit DefaultTargetResolver(Store* store) : store_(store) {}
  absl::StatusOr<Decision> Resolve(const Notification& n) override;

 private:
  Store* const store_;
};

// Adds to `decision` the tenant's integrations named by `integration_ids`
// (each must exist and be enabled) and every enabled integration on each of
// `channels`, once each; appends to `skipped` why a named id or channel gave
// nothing. Store errors are returned.
absl::Status AddTargets(Store& store, absl::string_view tenant_id,
                        absl::Span<const std::string> integration_ids,
                        absl::Span<const Channel> channels, TargetResolver::Decision* decision,
                        std::vector<std::string>* skipped);

}  // namespace alerthub

#endif  // ALERTHUB_DELIVERY_TARGET_RESOLVER_H_
