// AnalyticsService (alerthub/proto/admin.proto: GetNotificationStats,
// GetDeliveryMetrics, GetChannelBreakdown) over AnalyticsAdmin
// (alerthub/admin/analytics.h), for gRPC and for the REST routes
// (analytics_rest.h). Each call authenticates from the request metadata like
// the other admin services (AuthenticateCall) and needs
// Permission::kReadAnalytics (viewers and above).
//
//   AnalyticsOperations operations(&analytics_admin);
//   AnalyticsGrpcService analytics(&request_authenticator, &operations);
//   ALERTHUB_ASSIGN_OR_RETURN(auto server, GrpcServer::Start("0.0.0.0", 9090, {&analytics}));
#ifndef ALERTHUB_SERVER_GRPC_ANALYTICS_SERVICE_H_
#define ALERTHUB_SERVER_GRPC_ANALYTICS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "alerthub/admin/analytics.h"
#include "alerthub/auth/credentials.h"
#include "alerthub/auth/principal.h"
#include "alerthub/proto/admin.grpc.pb.h"

namespace alerthub::server {

// The operations on protobuf messages the gRPC service and the REST mapping
// both run. An unset range field is "required" (range.start, range.end,
// range.bucket); errors are AnalyticsAdmin's. Latencies are histogram
// estimates (analytics.h); accept_to_delivery is unset when nothing was
// delivered.
class AnalyticsOperations {
 public:
  // `admin` must outlive this.
  explicit AnalyticsOperations(AnalyticsAdmin* admin) : admin_(admin) {}

  absl::Status GetNotificationStats(const Principal& who, const admin::v1::StatsRequest& request,
                                    admin::v1::NotificationStats* response);
  absl::Status GetDeliveryMetrics(const Principal& who, const admin::v1::MetricsRequest& request,
                                  admin::v1::DeliveryMetrics* response);
  absl::Status GetChannelBreakdown(const Principal& who,
                                   const admin::v1::BreakdownRequest& request,
                                   admin::v1::ChannelBreakdown* response);

 private:
  AnalyticsAdmin* const admin_;
};

class AnalyticsGrpcService final : public admin::v1::AnalyticsService::Service {
 public:
  // Both must outlive the service.
  AnalyticsGrpcService(const RequestAuthenticator* authenticator,
                       AnalyticsOperations* operations)
      : authenticator_(authenticator), operations_(operations) {}

  grpc::Status GetNotificationStats(grpc::ServerContext* context,
                                    const admin::v1::StatsRequest* request,
                                    admin::v1::NotificationStats* response) override;
  grpc::Status GetDeliveryMetrics(grpc::ServerContext* context,
                                  const admin::v1::MetricsRequest* request,
                                  admin::v1::DeliveryMetrics* response) override;
  grpc::Status GetChannelBreakdown(grpc::ServerContext* context,
                                   const admin::v1::BreakdownRequest* request,
                                   admin::v1::ChannelBreakdown* response) override;

 private:
  const RequestAuthenticator* const authenticator_;
  AnalyticsOperations* const operations_;
};

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_GRPC_ANALYTICS_SERVICE_H_
