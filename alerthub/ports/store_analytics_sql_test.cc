#include "alerthub/ports/store_analytics_sql.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"

namespace alerthub {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(LatencySlotTest, BoundsAreInclusiveUpperLimits) {
  EXPECT_EQ(LatencySlot(-5), 0);  // clock skew counts as fastest
  EXPECT_EQ(LatencySlot(10'000), 0);
  EXPECT_EQ(LatencySlot(10'001), 1);
  EXPECT_EQ(LatencySlot(1'000'000), 6);  // 1 s
  EXPECT_EQ(LatencySlot(kLatencyBoundsMs[kLatencyBucketCount - 2] * 1000 + 1),
            kLatencyBucketCount - 1);
}

TEST(LatencySlotTest, BoundsAscend) {
  for (int i = 1; i + 1 < kLatencyBucketCount; ++i) {
    EXPECT_LT(kLatencyBoundsMs[i - 1], kLatencyBoundsMs[i]);
  }
}

TEST(AnalyticsSqlTest, DialectsUseTheirPlaceholders) {
  const std::string sqlite = DeliveryCountsSql(AnalyticsSqlDialect::kSqlite, true);
  EXPECT_THAT(sqlite, HasSubstr("d.channel = ?5"));
  EXPECT_THAT(sqlite, Not(HasSubstr("$")));
  const std::string pg = DeliveryCountsSql(AnalyticsSqlDialect::kPostgres, false);
  EXPECT_THAT(pg, HasSubstr("($1::text)"));
  EXPECT_THAT(pg, Not(HasSubstr("$5")));
  EXPECT_THAT(NotificationCountsSql(AnalyticsSqlDialect::kSqlite, true), HasSubstr("n.type = ?5"));
}

TEST(AnalyticsSqlTest, HistogramCaseHasOneBranchPerBound) {
  const std::string sql = LatencyHistogramSql(AnalyticsSqlDialect::kSqlite, false);
  EXPECT_THAT(sql, HasSubstr("WHEN d.updated_at - n.created_at <= 10000 THEN 0 "));
  EXPECT_THAT(sql, HasSubstr(absl::StrCat("ELSE ", kLatencyBucketCount - 1, " END")));
}

TEST(CheckAnalyticsWindowTest, RefusesEmptyWindowsAndBuckets) {
  const absl::Time t = absl::FromUnixSeconds(1'700'000'000);
  EXPECT_TRUE(CheckAnalyticsWindow({t, t + absl::Hours(1), absl::Minutes(1)}).ok());
  EXPECT_EQ(CheckAnalyticsWindow({t, t, absl::Minutes(1)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckAnalyticsWindow({t, t + absl::Hours(1), absl::ZeroDuration()}).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace alerthub
