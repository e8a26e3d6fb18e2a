#include "alerthub/server/grpc/analytics_rest.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "alerthub/auth/rbac.h"
#include "alerthub/common/status.h"
#include "alerthub/server/rest_util.h"
#include "alerthub/server/grpc/rest_proto.h"
#include "alerthub/server/status_http.h"

namespace alerthub::server {
namespace {

namespace pb = ::alerthub::admin::v1;
using google::protobuf::util::TimeUtil;
using http::Request;
using http::ResponseWriter;

// Authenticates, runs `op(who, request, &response)` and answers 200 with
// the response, or problem+json: bad query parameters are 400.
template <typename Resp, typename Req, typename Op>
void Serve(const RequestAuthenticator& authenticator, const Request& req,
           ResponseWriter writer, const absl::Status& parsed, const Req& request, Op op) {
  absl::StatusOr<Principal> who =
      AuthenticateRequest(authenticator, req, Permission::kReadAnalytics);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  if (!parsed.ok()) return std::move(writer).Send(QueryProblem(parsed));
  Resp response;
  const absl::Status s = op(*who, request, &response);
  if (absl::IsInvalidArgument(s)) return std::move(writer).Send(QueryProblem(s));
  if (!s.ok()) return std::move(writer).Send(ProblemFromStatus(s));
  std::move(writer).Send(ProtoJsonResponse(200, response));
}

}  // namespace

absl::Status TimeRangeFromQuery(const Request& req, bool bucketed,
                                std::initializer_list<absl::string_view> extra,
                                pb::TimeRange* range) {
  std::vector<FieldError> errors;
  for (const auto& [name, value] : req.query) {
    const bool known = name == "start" || name == "end" || (bucketed && name == "bucket") ||
                       std::find(extra.begin(), extra.end(), name) != extra.end();
    if (!known) errors.push_back({name, "unknown query parameter"});
  }
  // Parameter `param` as a Timestamp; nullopt when absent or bad (an error).
  auto time_param = [&](const char* param,
                        const char* field) -> std::optional<google::protobuf::Timestamp> {
    std::optional<std::string> text = req.QueryParam(param);
    if (!text.has_value()) return std::nullopt;
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, *text, &t, &err)) {
      errors.push_back({field, "must be an RFC 3339 time (2026-01-01T00:00:00Z)"});
      return std::nullopt;
    }
    return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
  };
  if (auto t = time_param("start", "range.start"); t.has_value()) *range->mutable_start() = *t;
  if (auto t = time_param("end", "range.end"); t.has_value()) *range->mutable_end() = *t;
  if (std::optional<std::string> text = req.QueryParam("bucket");
      bucketed && text.has_value()) {
    absl::Duration d;
    if (!absl::ParseDuration(*text, &d) || d == absl::InfiniteDuration() ||
        d == -absl::InfiniteDuration()) {
      errors.push_back({"range.bucket", "must be a duration (\"5m\", \"1h\", \"300s\")"});
    } else {
      *range->mutable_bucket() = TimeUtil::MicrosecondsToDuration(absl::ToInt64Microseconds(d));
    }
  }
  if (!errors.empty()) return InvalidArgumentWithFields("invalid query", std::move(errors));
  return absl::OkStatus();
}

void RegisterAnalyticsRoutes(http::Router& router, const RequestAuthenticator* authenticator,
                             AnalyticsOperations* operations) {
  router.Add("GET", "/api/v1/analytics/stats", [=](Request req, ResponseWriter writer) {
    pb::StatsRequest request;
    request.set_type(req.QueryParam("type").value_or(""));
    const absl::Status parsed = TimeRangeFromQuery(req, true, {"type"}, request.mutable_range());
    Serve<pb::NotificationStats>(*authenticator, req, std::move(writer), parsed, request,
                                 [=](const Principal& who, const auto& in, auto* out) {
                                   return operations->GetNotificationStats(who, in, out);
                                 });
  });
  router.Add("GET", "/api/v1/analytics/metrics", [=](Request req, ResponseWriter writer) {
    pb::MetricsRequest request;
    request.set_channel(req.QueryParam("channel").value_or(""));
    const absl::Status parsed = TimeRangeFromQuery(req, true, {"channel"}, request.mutable_range());
    Serve<pb::DeliveryMetrics>(*authenticator, req, std::move(writer), parsed, request,
                               [=](const Principal& who, const auto& in, auto* out) {
                                 return operations->GetDeliveryMetrics(who, in, out);
                               });
  });
  router.Add("GET", "/api/v1/analytics/channels", [=](Request req, ResponseWriter writer) {
    pb::BreakdownRequest request;
    const absl::Status parsed = TimeRangeFromQuery(req, false, {}, request.mutable_range());
    Serve<pb::ChannelBreakdown>(*authenticator, req, std::move(writer), parsed, request,
                                [=](const Principal& who, const auto& in, auto* out) {
                                  return operations->GetChannelBreakdown(who, in, out);
                                });
  });
}

}  // namespace alerthub::server
