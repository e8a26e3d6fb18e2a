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

// --- Digests ---

// When a digest group's next summary goes out, for a member due no earlier
// than `earliest` (Alertmanager's semantics): with members already waiting
// (`waiting`: the earliest due time of the group's held members it may
// join), that flush; else `earliest` + group_wait, but not before
// `last_flush` + group_interval when the group flushed before.
absl::Time DigestFlushTime(const DigestWindow& window, absl::Time earliest,
                           std::optional<absl::Time> waiting,
                           std::optional<absl::Time> last_flush);

// kInvalidArgument unless the delivery `d` of `w`, which has a digest_key,
// can be stored as a digest member: held, and `w` has a digest window.
absl::Status CheckDigestMember(const RoutingWrite& w, const Delivery& d);

// The lower bound on the due time of the held members a delivery given
// `given` (its next_attempt_at before routing) may join at `now`: `given`
// when it is in the future (a delayed member joins no earlier flush), else
// InfinitePast() (any waiting flush, even an overdue one).
absl::Time DigestJoinFloor(std::optional<absl::Time> given, absl::Time now);

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_DELIVERY_TRANSITIONS_H_
