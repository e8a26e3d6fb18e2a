#include "alerthub/model/tenant.h"

#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/model/internal/validation.h"

namespace alerthub {
namespace {

using model_internal::FieldErrorList;
using model_internal::Json;
using model_internal::RecordReader;

constexpr absl::string_view kRoleNames[] = {"owner", "admin", "member",
                                            "viewer"};
constexpr absl::string_view kTenantNameRule =
    "must be 1-63 characters of a-z, 0-9 and '-', starting with a letter or "
    "digit";

bool IsTenantName(absl::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || c != '-')) return false;
  }
  return true;
}

void ReadSettings(RecordReader& r, TenantSettings* s) {
  for (auto [key, out] :
       {std::pair{"rate_limit_per_second", &s->rate_limit_per_second},
        std::pair{"rate_limit_burst", &s->rate_limit_burst}}) {
    if (const Json* v = r.Find(key)) {
      if (!v->is_number() || !std::isfinite(v->get<double>()) ||
          v->get<double>() < 0) {
        r.Fail(key, "must be a non-negative number");
      } else {
        *out = v->get<double>();
      }
    }
  }
  if (const Json* v = r.Find("dedup_window_s")) {
    std::optional<int64_t> seconds =
        model_internal::GetInt(*v, r.PathOf("dedup_window_s"), 0,
                               int64_t{10} * 365 * 24 * 3600, r.errors());
    if (seconds.has_value()) s->dedup_window = absl::Seconds(*seconds);
  }
}

}  // namespace

absl::string_view RoleName(Role r) {
  int v = static_cast<int>(r);
  if (v < 1 || v > 4) return "unknown";
  return kRoleNames[v - 1];
}

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (int i = 0; i < 4; ++i) {
    if (name == kRoleNames[i]) return static_cast<Role>(i + 1);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role \"", name,
                   "\"; expected one of owner, admin, member, viewer"));
}

absl::Status ValidateTenantName(absl::string_view name) {
  if (IsTenantName(name)) return absl::OkStatus();
  return InvalidArgumentWithFields("invalid tenant",
                                   {{"name", std::string(kTenantNameRule)}});
}

nlohmann::json TenantSettingsToJson(const TenantSettings& s) {
  Json j = {{"rate_limit_per_second", s.rate_limit_per_second},
            {"rate_limit_burst", s.rate_limit_burst}};
  if (s.dedup_window.has_value()) {
    j["dedup_window_s"] = absl::ToInt64Seconds(*s.dedup_window);
  }
  return j;
}

absl::StatusOr<TenantSettings> TenantSettingsFromJson(const nlohmann::json& j) {
  FieldErrorList errors;
  RecordReader r(j, "", &errors);
  TenantSettings s;
  ReadSettings(r, &s);
  ALERTHUB_RETURN_IF_ERROR(
      std::move(errors).ToStatus("invalid tenant settings"));
  return s;
}

nlohmann::json TenantToJson(const Tenant& t) {
  Json j = {{"id", t.id},
            {"name", t.name},
            {"settings", TenantSettingsToJson(t.settings)}};
  model_internal::PutTime(j, "created_at", t.created_at);
  return j;
}

absl::StatusOr<Tenant> TenantFromJson(const nlohmann::json& j) {
  FieldErrorList errors;
  RecordReader r(j, "", &errors);
  Tenant t;
  r.String("id", &t.id, /*required=*/true);
  r.String("name", &t.name, /*required=*/true);
  if (const Json* settings = r.Find("settings")) {
    RecordReader sr(*settings, "settings", &errors);
    ReadSettings(sr, &t.settings);
  }
  r.Time("created_at", &t.created_at);
  ALERTHUB_RETURN_IF_ERROR(std::move(errors).ToStatus("invalid tenant record"));
  return t;
}

nlohmann::json ApiKeyToJson(const ApiKey& k) {
  Json j = {{"id", k.id},
            {"tenant_id", k.tenant_id},
            {"name", k.name},
            {"prefix", k.prefix},
            {"role", std::string(RoleName(k.role))}};
  model_internal::PutTime(j, "created_at", k.created_at);
  if (k.revoked_at.has_value()) {
    model_internal::PutTime(j, "revoked_at", *k.revoked_at);
  }
  return j;
}

}  // namespace alerthub
