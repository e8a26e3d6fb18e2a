// AnalyticsService's REST mapping (ARCHITECTURE §4: /analytics/stats,
// /analytics/metrics), with the same credentials, operations
// (AnalyticsOperations) and problem+json errors as the other admin routes;
// responses in protobuf's JSON mapping (int64 counts as JSON strings,
// Timestamps in RFC 3339).
//
//   GET /api/v1/analytics/stats     ?start=&end=&bucket=&type=    -> NotificationStats
//   GET /api/v1/analytics/metrics   ?start=&end=&bucket=&channel= -> DeliveryMetrics
//   GET /api/v1/analytics/channels  ?start=&end=                  -> ChannelBreakdown
//
// start and end are RFC 3339 times, bucket a duration ("5m", "1h", "300s").
// A bad or missing parameter is 400 naming its field as the gRPC API does
// (range.start, range.end, range.bucket, type, channel).
#ifndef ALERTHUB_SERVER_GRPC_ANALYTICS_REST_H_
#define ALERTHUB_SERVER_GRPC_ANALYTICS_REST_H_

#include <initializer_list>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "alerthub/auth/credentials.h"
#include "alerthub/proto/admin.pb.h"
#include "alerthub/server/grpc/analytics_service.h"
#include "alerthub/server/http/router.h"

namespace alerthub::server {

// The range from ?start=&end=[&bucket=] (RFC 3339 times, a duration);
// absent parameters stay unset (the operations report them as required).
// Unparsable ones are field errors (range.start, range.end, range.bucket),
// as are parameters other than the range's and `extra` (the route's
// filters).
absl::Status TimeRangeFromQuery(const http::Request& req, bool bucketed,
                                std::initializer_list<absl::string_view> extra,
                                admin::v1::TimeRange* range);

// Both must outlive the router's use of the routes.
void RegisterAnalyticsRoutes(http::Router& router, const RequestAuthenticator* authenticator,
                             AnalyticsOperations* operations);

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_GRPC_ANALYTICS_REST_H_
