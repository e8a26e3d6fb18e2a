#include "alerthub/ports/audit.h"

#include "absl/status/status.h"
#include "alerthub/ports/clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::absl::StatusCode;
using ::alerthub::testing::StatusIs;

class FixedClock : public Clock {
 public:
  absl::Time Now() const override { return absl::FromUnixSeconds(1'790'000'000); }
};

AuditActor Who() { return {.tenant_id = "t1", .actor = "user:u1", .request_id = "r1"}; }

TEST(AuditRecordJson, RoundTrips) {
  AuditRecord r;
  r.id = "01936f0e-7a3c-7b21-9d4e-000000000001";
  r.tenant_id = "t1";
  r.actor = "apikey:k";
  r.action = "rule.update";
  r.target = "r1";
  r.time = absl::FromUnixMicros(1'790'000'000'123'456);
  r.request_id = "req";
  r.before = {{"name", "a"}};
  r.after = {{"name", "b"}};
  absl::StatusOr<AuditRecord> back = AuditRecordFromJson(AuditRecordToJson(r));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, r);
}

TEST(AuditRecordJson, MalformedIsDataLoss) {
  EXPECT_THAT(AuditRecordFromJson(nlohmann::json::array()), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(AuditRecordFromJson({{"id", 1}}), StatusIs(StatusCode::kDataLoss));
  nlohmann::json j = AuditRecordToJson(AuditRecord{});
  j["time"] = "yesterday";
  EXPECT_THAT(AuditRecordFromJson(j), StatusIs(StatusCode::kDataLoss));
}

TEST(AuditScope, DescribeFillsTheCurrentScopeAndScopesNest) {
  FixedClock clock;
  AuditScope::Describe("ignored", {{"x", 1}}, nullptr);  // no scope: nothing happens
  EXPECT_EQ(AuditScope::Current(), nullptr);
  {
    AuditScope outer(nullptr, &clock, Who(), "user.create");
    EXPECT_EQ(AuditScope::Current(), &outer);
    EXPECT_EQ(outer.record().time, clock.Now());
    EXPECT_FALSE(outer.record().id.empty());
    AuditScope::Describe("u9", nullptr, {{"role", "member"}});
    EXPECT_EQ(outer.record().target, "u9");
    EXPECT_EQ(outer.record().after, nlohmann::json({{"role", "member"}}));
    {
      AuditScope inner(nullptr, &clock, Who(), "user.set_password", "u9");
      EXPECT_EQ(AuditScope::Current(), &inner);
      AuditScope::Describe("", nullptr, nullptr);
      EXPECT_EQ(inner.record().target, "u9");  // an empty target keeps the scope's
      inner.MarkWritten();
      EXPECT_EQ(inner.Unwritten(), nullptr);
      // Written already: Finish appends nothing (no store is touched).
      EXPECT_TRUE(inner.Finish(absl::OkStatus()).ok());
    }
    EXPECT_EQ(AuditScope::Current(), &outer);
    EXPECT_NE(outer.Unwritten(), nullptr);
    // A failed operation is returned as is and records nothing.
    EXPECT_THAT(outer.Finish(absl::NotFoundError("no user")), StatusIs(StatusCode::kNotFound));
    EXPECT_NE(outer.Unwritten(), nullptr);
  }
  EXPECT_EQ(AuditScope::Current(), nullptr);
}

}  // namespace
}  // namespace alerthub
