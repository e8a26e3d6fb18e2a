// Tenants and their API keys.
//
// Every object in AlertHub belongs to exactly one tenant; the tenant of a
// request comes from its credential. API keys are `ahk_` tokens that are
// stored only as their SHA-256 digest (see alerthub/auth for generation).
#ifndef ALERTHUB_MODEL_TENANT_H_
#define ALERTHUB_MODEL_TENANT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace alerthub {

// Per-tenant limits; zero values mean "use the deployment's default".
struct TenantSettings {
  double rate_limit_per_second = 0;  // sustained submissions per second
  double rate_limit_burst = 0;       // bucket capacity
  // Content-hash dedup window; std::nullopt uses the default (300 s), zero
  // disables content dedup (explicit dedup keys still apply).
  std::optional<absl::Duration> dedup_window;
};

struct Tenant {
  std::string id;    // UUIDv7
  std::string name;  // unique, [a-z0-9][a-z0-9-]{0,62}
  TenantSettings settings;
  absl::Time created_at = absl::InfinitePast();
};

// Roles in decreasing power; stored as numbers, never renumbered.
enum class Role : int {
  kOwner = 1,
  kAdmin = 2,
  kMember = 3,
  kViewer = 4,
};

absl::string_view RoleName(Role r);
absl::StatusOr<Role> ParseRole(absl::string_view name);

struct ApiKey {
  std::string id;         // UUIDv7
  std::string tenant_id;
  std::string name;       // human label
  std::string prefix;     // first characters of the token, for display and lookup
  std::string key_hash;   // lowercase hex SHA-256 of the whole token
  Role role = Role::kMember;
  absl::Time created_at = absl::InfinitePast();
  std::optional<absl::Time> revoked_at;
};

// Tenant names: 1-63 characters of [a-z0-9-], starting with a letter or digit.
absl::Status ValidateTenantName(absl::string_view name);

nlohmann::json TenantToJson(const Tenant& t);
absl::StatusOr<Tenant> TenantFromJson(const nlohmann::json& j);
nlohmann::json TenantSettingsToJson(const TenantSettings& s);
absl::StatusOr<TenantSettings> TenantSettingsFromJson(const nlohmann::json& j);

// Never includes key_hash.
nlohmann::json ApiKeyToJson(const ApiKey& k);

}  // namespace alerthub

#endif  // ALERTHUB_MODEL_TENANT_H_
