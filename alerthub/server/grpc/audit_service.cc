#include "alerthub/server/grpc/audit_service.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "alerthub/client.h"
#include "alerthub/common/status.h"
#include "alerthub/server/grpc/admin_services.h"
#include "alerthub/server/grpc/analytics_rest.h"
#include "alerthub/server/grpc/grpc_status.h"
#include "alerthub/server/grpc/rest_proto.h"
#include "alerthub/server/rest_util.h"
#include "alerthub/server/status_http.h"

namespace alerthub::server {
namespace {

namespace pb = ::alerthub::admin::v1;
using google::protobuf::util::TimeUtil;
using http::Request;
using http::ResponseWriter;

// A summary object as a Struct; summaries that are not objects (null) stay
// unset.
void SetSummary(const nlohmann::json& j, google::protobuf::Struct* out) {
  if (!j.is_object()) return;
  // The store wrote this JSON; a summary that does not convert is left out
  // rather than failing the whole page.
  if (!google::protobuf::util::JsonStringToMessage(j.dump(), out).ok()) out->Clear();
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(t));
}

}  // namespace

void ToProto(const AuditRecord& r, pb::AuditRecord* out) {
  out->set_id(r.id);
  out->set_tenant_id(r.tenant_id);
  out->set_actor(r.actor);
  out->set_action(r.action);
  out->set_target(r.target);
  SetTime(r.time, out->mutable_time());
  out->set_request_id(r.request_id);
  SetSummary(r.before, out->mutable_before());
  SetSummary(r.after, out->mutable_after());
  if (!r.before.is_object()) out->clear_before();
  if (!r.after.is_object()) out->clear_after();
}

absl::Status AuditOperations::List(const Principal& who,
                                   const pb::ListAuditRecordsRequest& request,
                                   pb::ListAuditRecordsResponse* response) {
  ALERTHUB_ASSIGN_OR_RETURN(PageRequest page,
                            ToPageRequest(request.page_size(), request.page_token()));
  AuditFilter filter;
  filter.actor = request.actor();
  filter.action = request.action();
  filter.target = request.target();
  if (request.range().has_start()) filter.since = FromTimestamp(request.range().start());
  if (request.range().has_end()) filter.until = FromTimestamp(request.range().end());
  ALERTHUB_ASSIGN_OR_RETURN(Page<AuditRecord> records, admin_->List(who, filter, page));
  for (const AuditRecord& r : records.items) ToProto(r, response->add_records());
  if (records.has_more && !records.items.empty()) {
    response->set_next_page_token(EncodeListCursor(records.items.back().id));
  }
  return absl::OkStatus();
}

grpc::Status AuditGrpcService::ListAuditRecords(grpc::ServerContext* context,
                                                const pb::ListAuditRecordsRequest* request,
                                                pb::ListAuditRecordsResponse* response) {
  absl::StatusOr<Principal> who = AuthenticateCall(*authenticator_, *context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ToGrpcStatus(operations_->List(*who, *request, response));
}

void RegisterAuditRoutes(http::Router& router, const RequestAuthenticator* authenticator,
                         AuditOperations* operations) {
  router.Add("GET", "/api/v1/audit", [=](Request req, ResponseWriter writer) {
    // Authentication first: an anonymous caller learns nothing about the
    // query's shape.
    absl::StatusOr<Principal> who = AuthenticateCaller(*authenticator, req);
    if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
    pb::ListAuditRecordsRequest request;
    request.set_actor(req.QueryParam("actor").value_or(""));
    request.set_action(req.QueryParam("action").value_or(""));
    request.set_target(req.QueryParam("target").value_or(""));
    request.set_page_token(req.QueryParam("page_token").value_or(""));
    absl::Status parsed = TimeRangeFromQuery(
        req, false, {"actor", "action", "target", "page_size", "page_token"},
        request.mutable_range());
    if (std::optional<std::string> size = req.QueryParam("page_size");
        parsed.ok() && size.has_value()) {
      int32_t n = 0;
      if (!absl::SimpleAtoi(*size, &n)) {
        parsed = InvalidArgumentWithFields("invalid query", {{"page_size", "must be a number"}});
      }
      request.set_page_size(n);
    }
    if (!parsed.ok()) return std::move(writer).Send(QueryProblem(parsed));
    pb::ListAuditRecordsResponse response;
    const absl::Status s = operations->List(*who, request, &response);
    if (absl::IsInvalidArgument(s)) return std::move(writer).Send(QueryProblem(s));
    if (!s.ok()) return std::move(writer).Send(ProblemFromStatus(s));
    std::move(writer).Send(ProtoJsonResponse(200, response));
  });
}

}  // namespace alerthub::server
