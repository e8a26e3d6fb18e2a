#include "alerthub/ports/refresh_rotation.h"

#include <optional>
#include <string>
#include <utility>

#include "alerthub/common/status.h"

namespace alerthub {

RefreshRotation::Result DecideRefreshRotation(const RefreshToken& token, bool user_exists,
                                              absl::Time now) {
  if (token.revoked_at.has_value() || !user_exists) return RefreshRotation::Result::kRevoked;
  if (token.used_at.has_value()) return RefreshRotation::Result::kReused;
  if (now >= token.expires_at) return RefreshRotation::Result::kExpired;
  return RefreshRotation::Result::kRotated;
}

absl::StatusOr<RefreshRotation> RotateRefreshTokenWith(RefreshToken presented, bool user_exists,
                                                       absl::string_view successor_hash,
                                                       absl::Time successor_expires_at,
                                                       absl::Time now,
                                                       const RefreshTokenWrites& writes) {
  RefreshRotation out;
  out.result = DecideRefreshRotation(presented, user_exists, now);
  out.presented = std::move(presented);
  switch (out.result) {
    case RefreshRotation::Result::kRevoked:
    case RefreshRotation::Result::kExpired:
      return out;
    case RefreshRotation::Result::kReused:
      // Someone holds a copy of a spent token: end the whole session.
      ALERTHUB_RETURN_IF_ERROR(writes.revoke_family(out.presented.family_id, now));
      out.presented.revoked_at = now;
      return out;
    case RefreshRotation::Result::kRotated:
      break;
  }
  ALERTHUB_RETURN_IF_ERROR(writes.mark_used(out.presented.token_hash, now));
  out.presented.used_at = now;
  out.successor = RefreshToken{.token_hash = std::string(successor_hash),
                               .family_id = out.presented.family_id,
                               .tenant_id = out.presented.tenant_id,
                               .user_id = out.presented.user_id,
                               .issued_at = now,
                               .expires_at = successor_expires_at,
                               .used_at = std::nullopt,
                               .revoked_at = std::nullopt};
  ALERTHUB_RETURN_IF_ERROR(writes.insert(out.successor));
  return out;
}

absl::StatusOr<RefreshToken> RevokeRefreshFamilyWith(
    RefreshToken token, absl::Time at,
    absl::FunctionRef<absl::Status(absl::string_view family_id, absl::Time at)> revoke_family) {
  ALERTHUB_RETURN_IF_ERROR(revoke_family(token.family_id, at));
  if (!token.revoked_at.has_value()) token.revoked_at = at;
  return token;
}

}  // namespace alerthub
