#include "alerthub/admin/analytics.h"

#include <optional>
#include <string>
#include <vector>

#include "alerthub/common/status.h"
#include "alerthub/ports/store_wrapper.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/sqlite_fixture.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::absl::StatusCode;
using ::alerthub::testing::StatusIs;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1'767'225'600);  // 2026-01-01T00:00:00Z

std::vector<FieldError> Errors(const absl::Status& s) { return FieldErrorsOf(s); }

// Serves fixed aggregate rows (what a Store's SQL returned), recording the
// window and filters it was asked for; everything else goes to `target`.
class CannedAnalyticsStore : public StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;

  absl::StatusOr<std::vector<NotificationCountRow>> CountNotifications(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      absl::string_view type) override {
    tenant = std::string(tenant_id);
    last_window = window;
    last_type = std::string(type);
    return notifications;
  }
  absl::StatusOr<std::vector<DeliveryCountRow>> CountDeliveries(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      std::optional<Channel> channel) override {
    tenant = std::string(tenant_id);
    last_window = window;
    last_channel = channel;
    return deliveries;
  }
  absl::StatusOr<std::vector<LatencyHistogramRow>> DeliveryLatencyHistogram(
      absl::string_view, const AnalyticsWindow&, std::optional<Channel>) override {
    return latencies;
  }

  std::vector<NotificationCountRow> notifications;
  std::vector<DeliveryCountRow> deliveries;
  std::vector<LatencyHistogramRow> latencies;
  std::string tenant;
  AnalyticsWindow last_window;
  std::string last_type;
  std::optional<Channel> last_channel;
};

class AnalyticsAdminTest : public ::testing::Test {
 protected:
  Principal As(Role role) const {
    Principal p;
    p.tenant_id = db_.tenant_id();
    p.role = role;
    p.subject = "test";
    return p;
  }

  static AnalyticsRange Range(absl::Duration span, absl::Duration bucket) {
    return {.start = kT0, .end = kT0 + span, .bucket = bucket};
  }

  SimulatedClock clock_;
  ::alerthub::testing::SqliteFixture db_{&clock_};
  CannedAnalyticsStore store_{db_.store()};
  AnalyticsAdmin admin_{&store_};
};

// --- Validation --------------------------------------------------------------------

TEST(AnalyticsWindowFromRangeTest, AcceptsAValidRange) {
  ASSERT_OK_AND_ASSIGN(
      AnalyticsWindow w,
      AnalyticsWindowFromRange({kT0, kT0 + absl::Hours(2), absl::Minutes(30)}, true));
  EXPECT_EQ(w.start, kT0);
  EXPECT_EQ(w.end, kT0 + absl::Hours(2));
  EXPECT_EQ(w.bucket, absl::Minutes(30));
  EXPECT_EQ(AnalyticsBucketCount(w), 4);
}

TEST(AnalyticsWindowFromRangeTest, NamesEachBadField) {
  EXPECT_THAT(Errors(AnalyticsWindowFromRange({}, true).status()),
              ElementsAre(FieldError{"range.start", "is required"},
                          FieldError{"range.end", "is required"},
                          FieldError{"range.bucket", "is required"}));
  EXPECT_THAT(
      Errors(AnalyticsWindowFromRange({kT0, kT0, absl::Seconds(59)}, true).status()),
      ElementsAre(FieldError{"range.end", "must be after range.start"},
                  FieldError{"range.bucket", "must be at least 1 minute"}));
  EXPECT_THAT(Errors(AnalyticsWindowFromRange(
                         {kT0, kT0 + absl::Hours(24 * 31) + absl::Seconds(1), absl::Hours(1)},
                         true)
                         .status()),
              ElementsAre(FieldError{"range.end", "must be at most 31 days after range.start"}));
  // 1,001 one-minute buckets.
  absl::Status too_many =
      AnalyticsWindowFromRange({kT0, kT0 + absl::Minutes(1001), absl::Minutes(1)}, true)
          .status();
  EXPECT_THAT(too_many, StatusIs(StatusCode::kInvalidArgument));
  ASSERT_THAT(Errors(too_many), ::testing::SizeIs(1));
  EXPECT_EQ(Errors(too_many)[0].field, "range.bucket");
  EXPECT_OK(
      AnalyticsWindowFromRange({kT0, kT0 + absl::Minutes(1000), absl::Minutes(1)}, true).status());
}

TEST(AnalyticsWindowFromRangeTest, UnbucketedRangesAreOneBucketAndIgnoreTheBucket) {
  ASSERT_OK_AND_ASSIGN(AnalyticsWindow w,
                       AnalyticsWindowFromRange({kT0, kT0 + absl::Hours(3), std::nullopt}, false));
  EXPECT_EQ(w.bucket, absl::Hours(3));
  EXPECT_EQ(AnalyticsBucketCount(w), 1);
}

TEST(AnalyticsWindowFromRangeTest, TheLastBucketMayBeCutShort) {
  EXPECT_EQ(AnalyticsBucketCount({kT0, kT0 + absl::Minutes(61), absl::Minutes(30)}), 3);
}

// --- Percentiles -------------------------------------------------------------------

std::vector<int64_t> Histogram(std::vector<std::pair<int, int64_t>> slots) {
  std::vector<int64_t> h(kLatencyBucketCount, 0);
  for (auto [slot, n] : slots) h[static_cast<size_t>(slot)] = n;
  return h;
}

TEST(HistogramQuantileTest, InterpolatesInsideTheBucketOfTheRank) {
  // 100 observations in (10, 25] ms: the median is halfway.
  std::vector<int64_t> h = Histogram({{1, 100}});
  EXPECT_THAT(*HistogramQuantileMs(0.5, h), DoubleNear(17.5, 1e-9));
  EXPECT_THAT(*HistogramQuantileMs(0.9, h), DoubleNear(23.5, 1e-9));
  // 50 in [0, 10], 50 in (100, 250]: p50 is the top of the first bucket,
  // p90 four fifths into the other.
  h = Histogram({{0, 50}, {4, 50}});
  EXPECT_THAT(*HistogramQuantileMs(0.5, h), DoubleNear(10, 1e-9));
  EXPECT_THAT(*HistogramQuantileMs(0.9, h), DoubleNear(100 + 150 * 0.8, 1e-9));
}

TEST(HistogramQuantileTest, TheInfBucketReportsTheLargestFiniteBound) {
  std::vector<int64_t> h = Histogram({{kLatencyBucketCount - 1, 3}});
  EXPECT_EQ(*HistogramQuantileMs(0.5, h),
            static_cast<double>(kLatencyBoundsMs[kLatencyBucketCount - 2]));
}

TEST(HistogramQuantileTest, EmptyHistogramsHaveNoEstimate) {
  EXPECT_EQ(HistogramQuantileMs(0.5, Histogram({})), std::nullopt);
  EXPECT_EQ(EstimatePercentiles(Histogram({})), std::nullopt);
  ASSERT_OK_AND_ASSIGN(LatencyPercentiles p,
                       [] () -> absl::StatusOr<LatencyPercentiles> {
                         return *EstimatePercentiles(Histogram({{6, 10}}));
                       }());
  EXPECT_THAT(p.p50_ms, DoubleNear(750, 1e-9));   // (500, 1000]
  EXPECT_THAT(p.p99_ms, DoubleNear(995, 1e-9));
}

// --- Reports -----------------------------------------------------------------------

TEST_F(AnalyticsAdminTest, NotificationStatsZeroFillsBucketsAndTotals) {
  store_.notifications = {
      {.bucket = 0, .status = NotificationStatus::kDelivered, .count = 3},
      {.bucket = 0, .status = NotificationStatus::kFailed, .count = 1},
      {.bucket = 2, .status = NotificationStatus::kDelivered, .count = 2},
  };
  ASSERT_OK_AND_ASSIGN(
      NotificationStatsReport r,
      admin_.NotificationStats(As(Role::kViewer), Range(absl::Hours(3), absl::Hours(1)), "deploy"));
  EXPECT_EQ(store_.tenant, db_.tenant_id());
  EXPECT_EQ(store_.last_type, "deploy");
  ASSERT_EQ(r.buckets.size(), 3u);
  EXPECT_EQ(r.buckets[0].start, kT0);
  EXPECT_EQ(r.buckets[2].start, kT0 + absl::Hours(2));
  EXPECT_THAT(r.buckets[0].by_status,
              UnorderedElementsAre(Pair("delivered", 3), Pair("failed", 1)));
  EXPECT_TRUE(r.buckets[1].by_status.empty());
  EXPECT_THAT(r.totals, UnorderedElementsAre(Pair("delivered", 5), Pair("failed", 1)));
}

TEST_F(AnalyticsAdminTest, DeliveryMetricsCountOutcomesAndEstimateLatency) {
  store_.deliveries = {
      {.bucket = 0, .channel = Channel::kWebhook, .status = DeliveryStatus::kDelivered,
       .count = 4, .retried = 1},
      {.bucket = 0, .channel = Channel::kSlack, .status = DeliveryStatus::kFailed, .count = 2,
       .retried = 2},
      {.bucket = 1, .channel = Channel::kWebhook, .status = DeliveryStatus::kPending, .count = 5,
       .retried = 0},
  };
  store_.latencies = {{.bucket = 0, .channel = Channel::kWebhook, .slot = 6, .count = 4}};
  ASSERT_OK_AND_ASSIGN(DeliveryMetricsReport r,
                       admin_.DeliveryMetrics(As(Role::kViewer),
                                              Range(absl::Minutes(10), absl::Minutes(5)), ""));
  EXPECT_EQ(store_.last_channel, std::nullopt);
  ASSERT_EQ(r.buckets.size(), 2u);
  EXPECT_THAT(r.buckets[0].by_outcome,
              UnorderedElementsAre(Pair("delivered", 4), Pair("retried", 3),
                                   Pair("dead_lettered", 2)));
  ASSERT_TRUE(r.buckets[0].accept_to_delivery.has_value());
  EXPECT_THAT(r.buckets[0].accept_to_delivery->p50_ms, DoubleNear(750, 1e-9));
  EXPECT_THAT(r.buckets[1].by_outcome,
              UnorderedElementsAre(Pair("delivered", 0), Pair("retried", 0),
                                   Pair("dead_lettered", 0)));
  EXPECT_EQ(r.buckets[1].accept_to_delivery, std::nullopt);

  // The channel filter goes to the store.
  store_.deliveries.clear();
  store_.latencies.clear();
  ASSERT_OK(admin_.DeliveryMetrics(As(Role::kViewer), Range(absl::Hours(1), absl::Hours(1)),
                                   "slack")
                .status());
  EXPECT_EQ(store_.last_channel, Channel::kSlack);
}

TEST_F(AnalyticsAdminTest, ChannelBreakdownIsOneEntryPerChannelInChannelOrder) {
  store_.deliveries = {
      {.bucket = 0, .channel = Channel::kWebhook, .status = DeliveryStatus::kDelivered,
       .count = 4, .retried = 1},
      {.bucket = 0, .channel = Channel::kWebhook, .status = DeliveryStatus::kFailed, .count = 1,
       .retried = 1},
      {.bucket = 0, .channel = Channel::kEmail, .status = DeliveryStatus::kPending, .count = 2,
       .retried = 0},
  };
  store_.latencies = {{.bucket = 0, .channel = Channel::kWebhook, .slot = 0, .count = 4}};
  // The bucket is ignored, even a bad one.
  ASSERT_OK_AND_ASSIGN(ChannelBreakdownReport r,
                       admin_.ChannelBreakdown(As(Role::kViewer),
                                               Range(absl::Hours(5), absl::Seconds(1))));
  EXPECT_EQ(store_.last_window.bucket, absl::Hours(5));
  ASSERT_EQ(r.channels.size(), 2u);
  EXPECT_EQ(r.channels[0].channel, "webhook");
  EXPECT_THAT(r.channels[0].by_status,
              UnorderedElementsAre(Pair("delivered", 4), Pair("failed", 1)));
  ASSERT_TRUE(r.channels[0].accept_to_delivery.has_value());
  EXPECT_THAT(r.channels[0].accept_to_delivery->p50_ms, DoubleNear(5, 1e-9));
  EXPECT_EQ(r.channels[1].channel, "email");
  EXPECT_EQ(r.channels[1].accept_to_delivery, std::nullopt);
}

TEST_F(AnalyticsAdminTest, RequestErrorsNameTheirFields) {
  absl::Status s = admin_
                       .DeliveryMetrics(As(Role::kViewer),
                                        {.start = kT0, .end = kT0, .bucket = absl::Minutes(1)},
                                        "pigeon")
                       .status();
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Errors(s), ElementsAre(FieldError{"range.end", "must be after range.start"},
                                     FieldError{"channel",
                                                "must be webhook, slack, discord, email or push"}));
  absl::Status t = admin_
                       .NotificationStats(As(Role::kViewer),
                                          Range(absl::Hours(1), absl::Minutes(1)),
                                          std::string(200, 'x'))
                       .status();
  ASSERT_THAT(Errors(t), ::testing::SizeIs(1));
  EXPECT_EQ(Errors(t)[0].field, "type");
}

TEST_F(AnalyticsAdminTest, ViewersMayReadEveryReport) {
  const AnalyticsRange range = Range(absl::Hours(1), absl::Hours(1));
  EXPECT_OK(admin_.NotificationStats(As(Role::kViewer), range, "").status());
  EXPECT_OK(admin_.DeliveryMetrics(As(Role::kViewer), range, "").status());
  EXPECT_OK(admin_.ChannelBreakdown(As(Role::kViewer), range).status());
}

TEST_F(AnalyticsAdminTest, AStoreRowOutsideTheWindowIsAnInternalError) {
  store_.notifications = {{.bucket = 7, .status = NotificationStatus::kDelivered, .count = 1}};
  EXPECT_THAT(admin_.NotificationStats(As(Role::kViewer),
                                       Range(absl::Hours(1), absl::Hours(1)), ""),
              StatusIs(StatusCode::kInternal));
}

}  // namespace
}  // namespace alerthub
