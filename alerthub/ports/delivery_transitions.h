// The state machine of a delivery as every Store applies it (ports/store.h,
// "Deliveries"): what a claim, a recorded attempt and a replay do to a
// delivery row. Pure functions on the row as read inside the store's
// transaction; the store persists the result. SQLite and PostgreSQL share
// them, so their decisions cannot drift apart.
#ifndef ALERTHUB_PORTS_DELIVERY_TRANSITIONS_H_
#define ALERTHUB_PORTS_DELIVERY_TRANSITIONS_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "alerthub/model/delivery.h"
#include "alerthub/ports/store.h"

namespace alerthub {

// Delivered, failed or suppressed: nothing more will happen to it.
bool IsFinished(DeliveryStatus s);

// Claims `d` (whose current lease ends at `lease_until`, if any) at `now`:
// kFinished, kBusy (sending under a live lease) or kNotDue (pending or held,
// due later) leave `d` as it is; kClaimed moves it to sending (status,
// updated_at) and the store records the lease `now + lease`.
DeliveryClaim::Result ClaimTransition(Delivery& d, std::optional<absl::Time> lease_until,
                                      absl::Time now);

// kInvalidArgument unless `w` ends delivered, pending or failed (the whole
// RecordAttempts call fails on it).
absl::Status CheckAttemptWrite(const AttemptWrite& w);

// Records the attempt `w` on `d` at `now` (status, attempts + 1,
// next_attempt_at, last_error, updated_at); kFailedPrecondition, leaving `d`
// alone, when `d` is not being sent.
absl::Status AttemptTransition(Delivery& d, const AttemptWrite& w, absl::Time now);

// Puts a dead-lettered `d` back to pending, due `now`, attempts reset;
// kFailedPrecondition, leaving `d` alone, when it is not failed.
absl::Status ReplayTransition(Delivery& d, absl::Time now);

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_DELIVERY_TRANSITIONS_H_
