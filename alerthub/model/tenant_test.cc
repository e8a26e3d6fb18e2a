#include "alerthub/model/tenant.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "alerthub/model/internal/test_util.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::model_test::HasFieldErrors;
using ::alerthub::model_test::IsOkAndHolds;
using ::alerthub::testing::StatusIs;
using Json = nlohmann::json;

constexpr char kNameRule[] =
    "must be 1-63 characters of a-z, 0-9 and '-', starting with a letter or "
    "digit";

TEST(ValidateTenantNameTest, Accepts) {
  for (const std::string& name :
       {std::string("a"), std::string("acme"), std::string("acme-corp"),
        std::string("0day"), std::string("a-"), std::string(63, 'x')}) {
    EXPECT_OK(ValidateTenantName(name)) << name;
  }
}

TEST(ValidateTenantNameTest, Rejects) {
  for (const std::string& name :
       {std::string(""), std::string("-acme"), std::string("Acme"),
        std::string("acme_corp"), std::string("acme corp"),
        std::string("acme.io"), std::string("\xc3\xa4"),
        std::string(64, 'x')}) {
    EXPECT_THAT(ValidateTenantName(name), HasFieldErrors({{"name", kNameRule}}))
        << name;
  }
  EXPECT_THAT(ValidateTenantName("-"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       std::string("invalid tenant: name: ") + kNameRule));
}

TEST(RoleTest, NamesRoundTrip) {
  const std::vector<std::pair<Role, std::string>> names = {
      {Role::kOwner, "owner"},
      {Role::kAdmin, "admin"},
      {Role::kMember, "member"},
      {Role::kViewer, "viewer"}};
  for (const auto& [role, name] : names) {
    EXPECT_EQ(RoleName(role), name);
    EXPECT_THAT(ParseRole(name), IsOkAndHolds(role));
  }
  EXPECT_EQ(RoleName(static_cast<Role>(0)), "unknown");
  EXPECT_THAT(ParseRole("root"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unknown role \"root\"; expected one of owner, admin, "
                       "member, viewer"));
  EXPECT_THAT(ParseRole("Owner"), StatusIs(absl::StatusCode::kInvalidArgument));
}

Tenant FullTenant() {
  Tenant t;
  t.id = "01936f0e-7a3c-7b21-9d4e-000000000002";
  t.name = "acme";
  t.settings.rate_limit_per_second = 12.5;
  t.settings.rate_limit_burst = 100;
  t.settings.dedup_window = absl::Seconds(600);
  t.created_at = absl::FromUnixMicros(1'800'000'000'000'001);
  return t;
}

void ExpectEqual(const Tenant& a, const Tenant& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.settings.rate_limit_per_second, b.settings.rate_limit_per_second);
  EXPECT_EQ(a.settings.rate_limit_burst, b.settings.rate_limit_burst);
  EXPECT_EQ(a.settings.dedup_window, b.settings.dedup_window);
  EXPECT_EQ(a.created_at, b.created_at);
}

TEST(TenantJsonTest, WritesEveryField) {
  EXPECT_EQ(TenantToJson(FullTenant()), Json::parse(R"({
    "id": "01936f0e-7a3c-7b21-9d4e-000000000002",
    "name": "acme",
    "settings": {"rate_limit_per_second": 12.5, "rate_limit_burst": 100.0,
                 "dedup_window_s": 600},
    "created_at": "2027-01-15T08:00:00.000001Z"
  })"));
}

TEST(TenantJsonTest, RoundTrips) {
  ASSERT_OK_AND_ASSIGN(Tenant back, TenantFromJson(TenantToJson(FullTenant())));
  ExpectEqual(back, FullTenant());

  Tenant defaults = FullTenant();
  defaults.settings = TenantSettings();
  ASSERT_OK_AND_ASSIGN(
      Tenant defaults_back,
      TenantFromJson(Json::parse(TenantToJson(defaults).dump())));
  ExpectEqual(defaults_back, defaults);
  EXPECT_FALSE(defaults_back.settings.dedup_window.has_value());
}

TEST(TenantSettingsJsonTest, DedupWindowOmittedWhenUnsetAndZeroKept) {
  TenantSettings s;
  EXPECT_EQ(TenantSettingsToJson(s),
            (Json{{"rate_limit_per_second", 0.0}, {"rate_limit_burst", 0.0}}));
  s.dedup_window = absl::ZeroDuration();  // disables content dedup
  Json j = TenantSettingsToJson(s);
  EXPECT_EQ(j["dedup_window_s"], 0);
  ASSERT_OK_AND_ASSIGN(TenantSettings back, TenantSettingsFromJson(j));
  EXPECT_EQ(back.dedup_window, absl::ZeroDuration());
}

TEST(TenantSettingsJsonTest, RejectsWrongShapes) {
  EXPECT_THAT(TenantSettingsFromJson(Json::array()),
              HasFieldErrors({{"", "must be a JSON object"}}));
  EXPECT_THAT(TenantSettingsFromJson(Json::parse(
                  R"({"rate_limit_per_second": -1, "rate_limit_burst": "10",
                      "dedup_window_s": 1.5})")),
              HasFieldErrors(
                  {{"rate_limit_per_second", "must be a non-negative number"},
                   {"rate_limit_burst", "must be a non-negative number"},
                   {"dedup_window_s", "must be an integer"}}));
  EXPECT_THAT(
      TenantSettingsFromJson(Json{{"dedup_window_s", -5}}),
      HasFieldErrors({{"dedup_window_s", "must be between 0 and 315360000"}}));
}

TEST(TenantFromJsonTest, RejectsWrongShapes) {
  EXPECT_THAT(TenantFromJson(Json::object()),
              HasFieldErrors({{"id", "is required"}, {"name", "is required"}}));
  EXPECT_THAT(
      TenantFromJson(Json::parse(
          R"({"id": "x", "name": 3, "settings": {"rate_limit_burst": -2},
                      "created_at": "now"})")),
      HasFieldErrors(
          {{"name", "must be a string"},
           {"settings.rate_limit_burst", "must be a non-negative number"},
           {"created_at",
            "must be an RFC 3339 date-time such as "
            "2026-01-02T15:04:05Z"}}));
  EXPECT_THAT(TenantFromJson(Json{{"id", "x"}, {"name", "n"}, {"settings", 1}}),
              HasFieldErrors({{"settings", "must be an object"}}));
}

TEST(ApiKeyJsonTest, NeverIncludesTheHash) {
  ApiKey k;
  k.id = "01936f0e-7a3c-7b21-9d4e-000000000003";
  k.tenant_id = "01936f0e-7a3c-7b21-9d4e-000000000002";
  k.name = "ci";
  k.prefix = "ahk_3f9a";
  k.key_hash = std::string(64, 'a');
  k.role = Role::kAdmin;
  k.created_at = absl::FromUnixSeconds(1'800'000'000);
  Json j = ApiKeyToJson(k);
  EXPECT_EQ(j, Json::parse(R"({
    "id": "01936f0e-7a3c-7b21-9d4e-000000000003",
    "tenant_id": "01936f0e-7a3c-7b21-9d4e-000000000002",
    "name": "ci",
    "prefix": "ahk_3f9a",
    "role": "admin",
    "created_at": "2027-01-15T08:00:00.000000Z"
  })"));
  EXPECT_EQ(j.dump().find(k.key_hash), std::string::npos);

  k.revoked_at = absl::FromUnixSeconds(1'800'000'060);
  j = ApiKeyToJson(k);
  EXPECT_EQ(j["revoked_at"], "2027-01-15T08:01:00.000000Z");
  EXPECT_FALSE(j.contains("key_hash"));
}

}  // namespace
}  // namespace alerthub
