#include "alerthub/server/grpc/analytics_service.h"

#include <google/protobuf/util/time_util.h>

#include <string>
#include <utility>

#include "alerthub/common/status.h"
#include "alerthub/server/grpc/admin_services.h"
#include "alerthub/server/grpc/grpc_status.h"

namespace alerthub::server {
namespace {

namespace pb = ::alerthub::admin::v1;
using google::protobuf::util::TimeUtil;

AnalyticsRange FromProto(const pb::TimeRange& r) {
  AnalyticsRange range;
  if (r.has_start()) {
    range.start = absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(r.start()));
  }
  if (r.has_end()) {
    range.end = absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(r.end()));
  }
  if (r.has_bucket()) {
    range.bucket = absl::Microseconds(TimeUtil::DurationToMicroseconds(r.bucket()));
  }
  return range;
}

// Sets `out`'s accept_to_delivery; left unset when nothing was delivered.
template <typename Msg>
void SetLatency(const std::optional<LatencyPercentiles>& p, Msg* out) {
  if (!p.has_value()) return;
  pb::LatencyPercentiles* latency = out->mutable_accept_to_delivery();
  latency->set_p50_ms(p->p50_ms);
  latency->set_p90_ms(p->p90_ms);
  latency->set_p99_ms(p->p99_ms);
}

template <typename Map>
void CopyCounts(const std::map<std::string, int64_t>& from, Map* to) {
  for (const auto& [key, n] : from) (*to)[key] = n;
}

}  // namespace

absl::Status AnalyticsOperations::GetNotificationStats(const Principal& who,
                                                       const pb::StatsRequest& request,
                                                       pb::NotificationStats* response) {
  ALERTHUB_ASSIGN_OR_RETURN(
      NotificationStatsReport report,
      admin_->NotificationStats(who, FromProto(request.range()), request.type()));
  for (const NotificationStatsReport::Bucket& b : report.buckets) {
    pb::NotificationStats::Bucket* out = response->add_buckets();
    SetTime(b.start, out->mutable_start());
    CopyCounts(b.by_status, out->mutable_by_status());
  }
  CopyCounts(report.totals, response->mutable_totals());
  return absl::OkStatus();
}

absl::Status AnalyticsOperations::GetDeliveryMetrics(const Principal& who,
                                                     const pb::MetricsRequest& request,
                                                     pb::DeliveryMetrics* response) {
  ALERTHUB_ASSIGN_OR_RETURN(
      DeliveryMetricsReport report,
      admin_->DeliveryMetrics(who, FromProto(request.range()), request.channel()));
  for (const DeliveryMetricsReport::Bucket& b : report.buckets) {
    pb::DeliveryMetrics::Bucket* out = response->add_buckets();
    SetTime(b.start, out->mutable_start());
    CopyCounts(b.by_outcome, out->mutable_by_outcome());
    SetLatency(b.accept_to_delivery, out);
  }
  return absl::OkStatus();
}

absl::Status AnalyticsOperations::GetChannelBreakdown(const Principal& who,
                                                      const pb::BreakdownRequest& request,
                                                      pb::ChannelBreakdown* response) {
  ALERTHUB_ASSIGN_OR_RETURN(ChannelBreakdownReport report,
                            admin_->ChannelBreakdown(who, FromProto(request.range())));
  for (const ChannelBreakdownReport::Entry& e : report.channels) {
    pb::ChannelBreakdown::Channel* out = response->add_channels();
    out->set_channel(e.channel);
    CopyCounts(e.by_status, out->mutable_by_status());
    SetLatency(e.accept_to_delivery, out);
  }
  return absl::OkStatus();
}

grpc::Status AnalyticsGrpcService::GetNotificationStats(grpc::ServerContext* context,
                                                        const pb::StatsRequest* request,
                                                        pb::NotificationStats* response) {
  absl::StatusOr<Principal> who = AuthenticateCall(*authenticator_, *context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ToGrpcStatus(operations_->GetNotificationStats(*who, *request, response));
}

grpc::Status AnalyticsGrpcService::GetDeliveryMetrics(grpc::ServerContext* context,
                                                      const pb::MetricsRequest* request,
                                                      pb::DeliveryMetrics* response) {
  absl::StatusOr<Principal> who = AuthenticateCall(*authenticator_, *context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ToGrpcStatus(operations_->GetDeliveryMetrics(*who, *request, response));
}

grpc::Status AnalyticsGrpcService::GetChannelBreakdown(grpc::ServerContext* context,
                                                       const pb::BreakdownRequest* request,
                                                       pb::ChannelBreakdown* response) {
  absl::StatusOr<Principal> who = AuthenticateCall(*authenticator_, *context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ToGrpcStatus(operations_->GetChannelBreakdown(*who, *request, response));
}

}  // namespace alerthub::server
