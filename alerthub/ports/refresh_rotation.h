// What every Store does when a refresh token is presented or its session
// revoked (ports/store.h, "Auth sessions"): one decision and one sequence
// of writes, which each adapter runs inside its own transaction with its
// own statements — as delivery_transitions.h does for deliveries.
//
//   ALERTHUB_ASSIGN_OR_RETURN(out, RotateRefreshTokenWith(
//       presented, user_exists, successor_hash, expires_at, now,
//       {.revoke_family = ..., .mark_used = ..., .insert = ...}));
#ifndef ALERTHUB_PORTS_REFRESH_ROTATION_H_
#define ALERTHUB_PORTS_REFRESH_ROTATION_H_

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/ports/store.h"

namespace alerthub {

// What presenting `token` at `now` does (kRotated: it may be rotated). A
// revoked family (or a deleted user) wins over reuse, reuse over expiry.
RefreshRotation::Result DecideRefreshRotation(const RefreshToken& token, bool user_exists,
                                              absl::Time now);

// The adapter's statements, run inside its transaction.
struct RefreshTokenWrites {
  // Sets revoked_at = at on every token of the family not revoked yet.
  absl::FunctionRef<absl::Status(absl::string_view family_id, absl::Time at)> revoke_family;
  // Sets used_at = at on the token (unused until now).
  absl::FunctionRef<absl::Status(absl::string_view token_hash, absl::Time at)> mark_used;
  // Inserts a new unused, unrevoked token.
  absl::FunctionRef<absl::Status(const RefreshToken& token)> insert;
};

// Store::RotateRefreshToken once the adapter has read (and locked) the
// presented token and whether its user exists.
absl::StatusOr<RefreshRotation> RotateRefreshTokenWith(RefreshToken presented, bool user_exists,
                                                       absl::string_view successor_hash,
                                                       absl::Time successor_expires_at,
                                                       absl::Time now,
                                                       const RefreshTokenWrites& writes);

// Store::RevokeRefreshFamily once the adapter has read the token: revokes
// its family and returns it as stored after the call.
absl::StatusOr<RefreshToken> RevokeRefreshFamilyWith(
    RefreshToken token, absl::Time at,
    absl::FunctionRef<absl::Status(absl::string_view family_id, absl::Time at)> revoke_family);

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_REFRESH_ROTATION_H_
