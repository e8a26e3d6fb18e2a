#include "alerthub/server/grpc/analytics_service.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "alerthub/auth/api_keys.h"
#include "alerthub/proto/google/rpc/status.pb.h"
#include "alerthub/server/grpc/admin_services.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/sqlite_fixture.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub::server {
namespace {

namespace pb = ::alerthub::admin::v1;
using ::testing::ElementsAre;

constexpr int64_t kT0 = 1'767'225'600;  // 2026-01-01T00:00:00Z

pb::TimeRange Range(int64_t start, int64_t end, int64_t bucket_seconds) {
  pb::TimeRange r;
  r.mutable_start()->set_seconds(start);
  r.mutable_end()->set_seconds(end);
  if (bucket_seconds > 0) r.mutable_bucket()->set_seconds(bucket_seconds);
  return r;
}

std::vector<std::string> ViolatedFields(const grpc::Status& s) {
  google::rpc::Status details;
  std::vector<std::string> fields;
  if (!details.ParseFromString(s.error_details()) || details.details_size() != 1) return fields;
  google::rpc::BadRequest bad;
  if (!details.details(0).UnpackTo(&bad)) return fields;
  for (const auto& v : bad.field_violations()) fields.push_back(v.field());
  return fields;
}

class AnalyticsGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    viewer_key_ = db_.AddApiKey(Role::kViewer);
    auth_ = std::make_unique<ApiKeyAuthenticator>(db_.store());
    credentials_ = std::make_unique<RequestAuthenticator>(auth_.get(), nullptr);
    admin_ = std::make_unique<AnalyticsAdmin>(db_.store());
    operations_ = std::make_unique<AnalyticsOperations>(admin_.get());
    service_ = std::make_unique<AnalyticsGrpcService>(credentials_.get(), operations_.get());
    ASSERT_OK_AND_ASSIGN(server_, GrpcServer::Start("127.0.0.1", 0, {service_.get()}));
    stub_ = pb::AnalyticsService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& key) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!key.empty()) ctx->AddMetadata("x-api-key", key);
    return ctx;
  }

  SimulatedClock clock_;
  ::alerthub::testing::SqliteFixture db_{&clock_};
  std::string viewer_key_;
  std::unique_ptr<ApiKeyAuthenticator> auth_;
  std::unique_ptr<RequestAuthenticator> credentials_;
  std::unique_ptr<AnalyticsAdmin> admin_;
  std::unique_ptr<AnalyticsOperations> operations_;
  std::unique_ptr<AnalyticsGrpcService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<pb::AnalyticsService::Stub> stub_;
};

TEST_F(AnalyticsGrpcTest, ViewersGetZeroFilledBuckets) {
  pb::StatsRequest stats;
  *stats.mutable_range() = Range(kT0, kT0 + 3 * 3600, 3600);
  pb::NotificationStats got;
  grpc::Status s = stub_->GetNotificationStats(As(viewer_key_).get(), stats, &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(got.buckets_size(), 3);
  EXPECT_EQ(got.buckets(0).start().seconds(), kT0);
  EXPECT_EQ(got.buckets(2).start().seconds(), kT0 + 2 * 3600);
  EXPECT_TRUE(got.totals().empty());

  pb::MetricsRequest metrics;
  *metrics.mutable_range() = Range(kT0, kT0 + 600, 300);
  metrics.set_channel("webhook");
  pb::DeliveryMetrics m;
  s = stub_->GetDeliveryMetrics(As(viewer_key_).get(), metrics, &m);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(m.buckets_size(), 2);
  EXPECT_EQ(m.buckets(1).by_outcome().at("delivered"), 0);
  EXPECT_EQ(m.buckets(1).by_outcome().at("retried"), 0);
  EXPECT_EQ(m.buckets(1).by_outcome().at("dead_lettered"), 0);
  EXPECT_FALSE(m.buckets(1).has_accept_to_delivery());

  pb::BreakdownRequest breakdown;
  *breakdown.mutable_range() = Range(kT0, kT0 + 600, 0);
  pb::ChannelBreakdown b;
  s = stub_->GetChannelBreakdown(As(viewer_key_).get(), breakdown, &b);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(b.channels_size(), 0);
}

TEST_F(AnalyticsGrpcTest, BadRangesAreInvalidArgumentNamingTheFields) {
  pb::MetricsRequest metrics;
  *metrics.mutable_range() = Range(kT0, kT0, 30);
  metrics.set_channel("pigeon");
  pb::DeliveryMetrics m;
  grpc::Status s = stub_->GetDeliveryMetrics(As(viewer_key_).get(), metrics, &m);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("range.end", "range.bucket", "channel"));

  pb::StatsRequest stats;  // no range at all
  pb::NotificationStats got;
  s = stub_->GetNotificationStats(As(viewer_key_).get(), stats, &got);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("range.start", "range.end", "range.bucket"));

  // 32 days.
  pb::BreakdownRequest breakdown;
  *breakdown.mutable_range() = Range(kT0, kT0 + 32 * 86400, 0);
  pb::ChannelBreakdown b;
  s = stub_->GetChannelBreakdown(As(viewer_key_).get(), breakdown, &b);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("range.end"));
}

TEST_F(AnalyticsGrpcTest, CallsNeedACredential) {
  pb::StatsRequest stats;
  *stats.mutable_range() = Range(kT0, kT0 + 3600, 3600);
  pb::NotificationStats got;
  EXPECT_EQ(stub_->GetNotificationStats(As("").get(), stats, &got).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(stub_->GetNotificationStats(As("ahk_not_a_key").get(), stats, &got).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace alerthub::server
