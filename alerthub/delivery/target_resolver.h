// TargetResolver: who gets an accepted notification — the seam between the
// routing step (delivery/dispatcher.h) and the rules engine (rules/), which
// replaces the default.
#ifndef ALERTHUB_DELIVERY_TARGET_RESOLVER_H_
#define ALERTHUB_DELIVERY_TARGET_RESOLVER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "alerthub/model/integration.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/user.h"
#include "alerthub/ports/store.h"

namespace alerthub {

// Who gets a notification. The rules engine replaces the default.
class TargetResolver {
 public:
  struct Target {
    Integration integration;  // as stored (sealed secrets)
    // User id when the delivery goes to one recipient of the notification
    // (IsRecipientTargeted channels, notification with `recipients`); empty
    // for one delivery per integration.
    std::string recipient;
    // The recipient's quiet hours: the delivery is created held
    // (DeliveryStatus::kHeld) and first attempted at this time.
    std::optional<absl::Time> held_until;
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

// Whether an integration of `channel` delivers to each of a notification's
// `recipients` (user ids) separately, at the address the user has for the
// channel: email, push, slack and discord reach a person; a webhook is one
// delivery per notification whoever it is for (its receiver gets the
// recipients in the payload).
bool IsRecipientTargeted(Channel channel);

// OK when `user` can be reached on `channel` (IsRecipientTargeted), else
// kFailedPrecondition saying which address is missing:
//   email    addresses.email, else User::email (always set)
//   push     addresses.fcm_tokens (at least one)
//   slack    addresses.slack_user_id
//   discord  addresses.discord_user_id
// Routing drops a recipient without one (the reason is in the plan); the
// senders read the same fields.
absl::Status CheckRecipientAddress(const User& user, Channel channel);

// The address an e-mail to `user` goes to: addresses.email, else User::email.
const std::string& RecipientEmail(const User& user);

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
