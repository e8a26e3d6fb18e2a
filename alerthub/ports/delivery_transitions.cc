#include "alerthub/ports/delivery_transitions.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace alerthub {

bool IsFinished(DeliveryStatus s) {
  return s == DeliveryStatus::kDelivered || s == DeliveryStatus::kFailed ||
         s == DeliveryStatus::kSuppressed;
}

DeliveryClaim::Result ClaimTransition(Delivery& d, std::optional<absl::Time> lease_until,
                                      absl::Time now) {
  if (IsFinished(d.status)) return DeliveryClaim::Result::kFinished;
  if (d.status == DeliveryStatus::kSending) {
    if (lease_until.has_value() && *lease_until > now) return DeliveryClaim::Result::kBusy;
  } else if (d.next_attempt_at.has_value() && *d.next_attempt_at > now) {
    // Pending or held and not yet due (a retry's backoff, quiet hours, a delay).
    return DeliveryClaim::Result::kNotDue;
  }
  d.status = DeliveryStatus::kSending;
  d.updated_at = now;
  return DeliveryClaim::Result::kClaimed;
}

absl::Status CheckAttemptWrite(const AttemptWrite& w) {
  if (w.status == DeliveryStatus::kDelivered || w.status == DeliveryStatus::kPending ||
      w.status == DeliveryStatus::kFailed) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "an attempt ends delivered, pending or failed, not ", DeliveryStatusName(w.status)));
}

absl::Status AttemptTransition(Delivery& d, const AttemptWrite& w, absl::Time now) {
  if (d.status != DeliveryStatus::kSending) {
    return absl::FailedPreconditionError(absl::StrCat("delivery \"", d.id, "\" is ",
                                                      DeliveryStatusName(d.status),
                                                      ", not being sent: claim it first"));
  }
  d.status = w.status;
  d.attempts += 1;
  d.next_attempt_at = w.next_attempt_at;
  d.last_error = w.last_error;
  d.updated_at = now;
  return absl::OkStatus();
}

absl::Status ReplayTransition(Delivery& d, absl::Time now) {
  if (d.status != DeliveryStatus::kFailed) {
    return absl::FailedPreconditionError(
        absl::StrCat("delivery \"", d.id, "\" is ", DeliveryStatusName(d.status),
                     "; only failed (dead-lettered) deliveries can be replayed"));
  }
  d.status = DeliveryStatus::kPending;
  d.attempts = 0;
  d.next_attempt_at = now;
  d.updated_at = now;
  return absl::OkStatus();
}

// --- Digests ---

absl::Time DigestFlushTime(const DigestWindow& window, absl::Time earliest,
                           std::optional<absl::Time> waiting,
                           std::optional<absl::Time> last_flush) {
  if (waiting.has_value()) return *waiting;
  absl::Time at = earliest + window.group_wait;
  if (last_flush.has_value()) at = std::max(at, *last_flush + window.group_interval);
  return at;
}

absl::Status CheckDigestMember(const RoutingWrite& w, const Delivery& d) {
  if (!w.digest.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("delivery \"", d.id, "\" has a digest_key but the routing no digest"));
  }
  if (d.status != DeliveryStatus::kHeld) {
    return absl::InvalidArgumentError(
        absl::StrCat("delivery \"", d.id, "\" has a digest_key but is not held"));
  }
  return absl::OkStatus();
}

absl::Time DigestJoinFloor(std::optional<absl::Time> given, absl::Time now) {
  if (given.has_value() && *given > now) return *given;
  return absl::InfinitePast();
}

}  // namespace alerthub
