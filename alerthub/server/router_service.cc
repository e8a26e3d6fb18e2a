#include "alerthub/server/router_service.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/client.h"
#include "alerthub/common/status.h"
#include "alerthub/common/time.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/model/notification.h"
#include "alerthub/pipeline/realtime.h"
#include "alerthub/ports/audit.h"
#include "alerthub/server/http/http_server.h"
#include "alerthub/server/http/problem.h"
#include "alerthub/server/rest_util.h"
#include "alerthub/server/status_http.h"

namespace alerthub::server {
namespace {

using http::Request;
using http::Response;
using http::ResponseWriter;

absl::StatusOr<std::string> IdempotencyKey(const Request& req) {
  std::optional<std::string> key = req.Header("Idempotency-Key");
  if (!key.has_value()) return std::string();
  ALERTHUB_RETURN_IF_ERROR(ValidateIdempotencyKey(*key));
  return *key;
}

nlohmann::json SubmitBody(const SubmitResult& r) {
  nlohmann::json j = {{"id", r.id}, {"status", std::string(NotificationStatusName(r.status))}};
  if (r.duplicate) j["duplicate"] = true;
  return j;
}

Response SubmitResponse(const SubmitResult& r) {
  Response res = JsonResponse(r.duplicate ? 200 : 202, SubmitBody(r));
  res.headers.emplace_back("Location", absl::StrCat("/api/v1/notifications/", r.id));
  for (auto& h : RateLimitHeaders(r.rate_limit)) res.headers.push_back(std::move(h));
  return res;
}

// Query-parameter parsing for GET /api/v1/notifications.
absl::StatusOr<ListOptions> ParseListQuery(const Request& req) {
  ListOptions o;
  std::vector<FieldError> errors;
  for (const auto& [name, value] : req.query) {
    if (name == "status") {
      absl::StatusOr<NotificationStatus> s = ParseNotificationStatus(value);
      if (s.ok()) {
        o.status = *s;
      } else {
        errors.push_back({"status", std::string(s.status().message())});
      }
    } else if (name == "type") {
      o.type = value;
    } else if (name == "since") {
      absl::StatusOr<absl::Time> t = ParseRfc3339(value);
      if (t.ok()) {
        o.since = *t;
      } else {
        errors.push_back({"since", std::string(t.status().message())});
      }
    } else if (name == "limit") {
      int limit = 0;
      if (!absl::SimpleAtoi(value, &limit) || limit < 1 || limit > 500) {
        errors.push_back({"limit", "must be an integer between 1 and 500"});
      } else {
        o.limit = limit;
      }
    } else if (name == "cursor") {
      if (!DecodeListCursor(value).ok()) {
        errors.push_back({"cursor", "is malformed"});
      } else {
        o.cursor = value;
      }
    } else if (name != "api_key") {
      errors.push_back({name, "unknown query parameter"});
    }
  }
  if (!errors.empty()) return InvalidArgumentWithFields("invalid query parameters", errors);
  return o;
}

// Query and header errors are 400 (the request is malformed), not 422.
// The answer for a failed lookup of notification `id`: one message for
// "absent" and "another tenant's", so nothing leaks across tenants.
Response NotificationProblem(const absl::Status& s, absl::string_view id) {
  if (s.code() == absl::StatusCode::kNotFound) {
    return ProblemFromStatus(absl::NotFoundError(absl::StrCat("no notification ", id)));
  }
  return ProblemFromStatus(s);
}

// Realtime updates for one WebSocket: the tenant's Kv channel, filtered.
class UpdatesSocket final : public http::WebSocketHandler {
 public:
  UpdatesSocket(Kv* kv, std::string tenant_id) : kv_(kv), tenant_id_(std::move(tenant_id)) {}

  void OnOpen(std::shared_ptr<http::WebSocketSession> session) override {
    session_ = session;
    auto state = state_;
    absl::StatusOr<std::unique_ptr<Subscription>> sub = kv_->Subscribe(
        UpdatesChannel(tenant_id_), [state, session](absl::string_view message) {
          if (state->Wants(message)) session->Send(std::string(message));
        });
    if (!sub.ok()) {
      session->Close(1011, "updates unavailable");
      return;
    }
    subscription_ = std::move(*sub);
  }

  void OnMessage(std::string text) override {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || j.value("type", "") != "subscribe") {
      Reply({{"type", "error"}, {"detail", "expected {\"type\": \"subscribe\", \"filter\": {...}}"}});
      return;
    }
    Filter f;
    const nlohmann::json& filter = j.contains("filter") ? j["filter"] : nlohmann::json::object();
    if (!filter.is_object()) {
      Reply({{"type", "error"}, {"detail", "filter: must be an object"}});
      return;
    }
    if (filter.contains("types")) {
      if (!filter["types"].is_array()) {
        Reply({{"type", "error"}, {"detail", "filter.types: must be an array of strings"}});
        return;
      }
      for (const auto& t : filter["types"]) {
        if (!t.is_string()) {
          Reply({{"type", "error"}, {"detail", "filter.types: must be an array of strings"}});
          return;
        }
        f.types.push_back(t.get<std::string>());
      }
    }
    if (filter.contains("min_priority") && !filter["min_priority"].is_null()) {
      absl::StatusOr<Priority> p = ParsePriority(filter["min_priority"]);
      if (!p.ok()) {
        Reply({{"type", "error"}, {"detail", absl::StrCat("filter.min_priority: ", p.status().message())}});
        return;
      }
      f.min_priority = static_cast<int>(*p);
    }
    state_->Set(std::move(f));
    Reply({{"type", "subscribed"}, {"filter", filter}});
  }

  void OnClose() override { subscription_.reset(); }

 private:
  struct Filter {
    std::vector<std::string> types;
    int min_priority = 0;
  };
  // Shared with the Kv callback, which may run after this handler is gone.
  class State {
   public:
    void Set(Filter f) {
      absl::MutexLock lock(&mu_);
      filter_ = std::move(f);
    }
    bool Wants(absl::string_view message) {
      absl::MutexLock lock(&mu_);
      if (filter_.types.empty() && filter_.min_priority == 0) return true;
      absl::StatusOr<StatusUpdate> u = StatusUpdateFromJson(message);
      if (!u.ok()) return false;
      if (static_cast<int>(u->priority) < filter_.min_priority) return false;
      if (filter_.types.empty()) return true;
      for (const std::string& t : filter_.types) {
        if (t == u->notification_type) return true;
      }
      return false;
    }

   private:
    absl::Mutex mu_;
    Filter filter_ ABSL_GUARDED_BY(mu_);
  };

  void Reply(const nlohmann::json& j) {
    if (session_ != nullptr) session_->Send(j.dump());
  }

  Kv* const kv_;
  const std::string tenant_id_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::shared_ptr<http::WebSocketSession> session_;
  std::unique_ptr<Subscription> subscription_;
};

}  // namespace

RouterService::RouterService(Engine* engine, const RequestAuthenticator* auth,
                             metrics::Registry* registry, RouterServiceOptions options)
    : engine_(engine), auth_(auth), registry_(registry), options_(std::move(options)) {
  requests_ = &registry_->AddCounter("alerthub_http_requests_total", "HTTP requests served.",
                                     {"method", "route", "code"});
  durations_ = &registry_->AddHistogram("alerthub_http_request_duration_seconds",
                                        "HTTP request latency in seconds.",
                                        {"method", "route", "code"});
  accepted_ = &registry_->AddCounter("alerthub_notifications_accepted_total",
                                     "Notifications accepted (durably stored).", {})
                   .WithLabels({});
  duplicates_ = &registry_->AddCounter("alerthub_notifications_duplicate_total",
                                       "Submissions answered as duplicates of an earlier one.", {})
                     .WithLabels({});
  rate_limited_ = &registry_->AddCounter("alerthub_rate_limited_total",
                                         "Submissions refused by a rate limit.", {})
                       .WithLabels({});
  Engine* e = engine_;
  registry_->AddCallbackGauge("alerthub_outbox_pending", "Outbox messages not yet published.",
                              [e] {
                                absl::StatusOr<int64_t> n = e->store().CountOutboxPending();
                                return n.ok() ? static_cast<double>(*n) : -1.0;
                              });
  registry_->AddCallbackCounter("alerthub_store_commits_total",
                                "Submission transactions committed (group commits).",
                                [e] { return static_cast<double>(e->pipeline().committer().transactions()); });
  registry_->AddCallbackCounter("alerthub_store_committed_rows_total",
                                "Submissions written by those transactions.",
                                [e] { return static_cast<double>(e->pipeline().committer().rows()); });
  registry_->AddCallbackCounter("alerthub_outbox_published_total",
                                "Outbox messages published to the bus and marked sent.",
                                [e] { return static_cast<double>(e->relay().published()); });
  registry_->AddCallbackCounter(
      "alerthub_rate_limit_fail_open_total",
      "Submissions let through without a rate-limit decision because the Kv was unavailable.",
      [e] { return static_cast<double>(e->pipeline().rate_limiter().fail_open_count()); });
  metrics::AddBuildInfo(*registry_, options_.version, options_.commit);
}

absl::StatusOr<Principal> RouterService::Authenticate(const Request& req, Permission permission,
                                                      bool allow_query_key) {
  return AuthenticateRequest(*auth_, req, permission, allow_query_key);
}

void RouterService::Register(http::Router& router) {
  using Route = void (RouterService::*)(Request, ResponseWriter);
  auto add = [&](absl::string_view method, absl::string_view pattern, Route route) {
    router.Add(method, pattern,
               [this, route](Request r, ResponseWriter w) {
                 (this->*route)(std::move(r), std::move(w));
               },
               {.name = std::string(pattern)});
  };
  router.Add("POST", "/api/v1/notifications",
             [this](Request r, ResponseWriter w) { Submit(std::move(r), std::move(w)); },
             {.blocking = !options_.inline_submit, .name = "/api/v1/notifications"});
  add("GET", "/api/v1/notifications", &RouterService::List);
  add("POST", "/api/v1/notifications/batch", &RouterService::SubmitBatch);
  add("GET", "/api/v1/notifications/{id}", &RouterService::Get);
  add("DELETE", "/api/v1/notifications/{id}", &RouterService::Cancel);
  add("GET", "/api/v1/notifications/{id}/events", &RouterService::Events);
  router.AddWebSocket(
      "/api/v1/ws", [this](const Request& r) { return AcceptWebSocket(r); },
      {.name = "/api/v1/ws"});
}

void RouterService::RegisterOperational(http::Router& router,
                                        std::function<int64_t()> ws_connections,
                                        std::function<int64_t()> ws_slow_closed) {
  registry_->AddCallbackCounter(
      "alerthub_access_log_dropped_total",
      "Access-log lines dropped because stderr was not keeping up.",
      [] { return static_cast<double>(http::AccessLogLinesDropped()); });
  registry_->AddCallbackGauge("alerthub_ws_connections", "Open WebSocket connections.",
                              [f = std::move(ws_connections)] { return static_cast<double>(f()); });
  registry_->AddCallbackCounter(
      "alerthub_ws_slow_consumers_closed_total",
      "WebSocket connections closed (1013) because their send queue was full.",
      [f = std::move(ws_slow_closed)] { return static_cast<double>(f()); });
  router.Add("GET", "/health/live",
             [](Request, ResponseWriter w) {
               std::move(w).Send(JsonResponse(200, {{"status", "ok"}}));
             },
             {.blocking = false, .name = "/health/live"});
  router.Add("GET", "/health/ready",
             [this](Request r, ResponseWriter w) { Ready(std::move(r), std::move(w)); },
             {.name = "/health/ready"});
  router.Add("GET", "/metrics",
             [this](Request, ResponseWriter w) {
               Response res;
               res.body = registry_->Render();
               res.content_type = std::string(metrics::kContentType);
               std::move(w).Send(std::move(res));
             },
             {.name = "/metrics"});
}

void RouterService::ObserveRequest(absl::string_view method, absl::string_view route,
                                   int status, absl::Duration duration) {
  const std::string code = absl::StrCat(status);
  const absl::string_view labels[] = {method, route, code};
  requests_->WithLabels(labels).Increment();
  durations_->WithLabels(labels).ObserveDuration(duration);
}

void RouterService::Submit(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kSendNotifications);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  JsonBody parsed = ParseJsonBody(req);
  if (parsed.problem.has_value()) return std::move(writer).Send(*std::move(parsed.problem));
  nlohmann::json* body = &parsed.json;
  absl::StatusOr<std::string> idem = IdempotencyKey(req);
  if (!idem.ok()) return std::move(writer).Send(QueryProblem(idem.status()));

  absl::StatusOr<Notification> n = NotificationFromRequestJson(*body, engine_->clock().Now());
  if (!n.ok()) return std::move(writer).Send(ProblemFromStatus(n.status()));

  SubmitContext ctx;
  ctx.tenant_id = who->tenant_id;
  ctx.idempotency_key = std::move(*idem);
  ctx.traceparent = req.traceparent;
  ctx.validated = true;
  // The commit answers the request when it lands: no thread waits for it,
  // whether this runs on an I/O thread (inline_submit) or the handler pool.
  engine_->pipeline().SubmitAsync(
      ctx, *std::move(n),
      [this, writer = std::move(writer)](absl::StatusOr<SubmitResult> r) mutable {
        AnswerSubmit(std::move(r), std::move(writer));
      });
}

void RouterService::AnswerSubmit(absl::StatusOr<SubmitResult> r, ResponseWriter writer) {
  if (!r.ok()) {
    if (r.status().code() == absl::StatusCode::kResourceExhausted) rate_limited_->Increment();
    return std::move(writer).Send(ProblemFromStatus(r.status()));
  }
  (r->duplicate ? duplicates_ : accepted_)->Increment();
  std::move(writer).Send(SubmitResponse(*r));
}

void RouterService::SubmitBatch(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kSendNotifications);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  JsonBody parsed = ParseJsonBody(req);
  if (parsed.problem.has_value()) return std::move(writer).Send(*std::move(parsed.problem));
  nlohmann::json* body = &parsed.json;
  absl::StatusOr<std::string> idem = IdempotencyKey(req);
  if (!idem.ok()) return std::move(writer).Send(QueryProblem(idem.status()));

  const nlohmann::json* items = nullptr;
  if (body->is_object() && body->contains("notifications")) {
    items = &(*body)["notifications"];
    for (const auto& [key, unused] : body->items()) {
      if (key != "notifications") {
        return std::move(writer).Send(ProblemFromStatus(
            InvalidArgumentWithFields("invalid batch", {{key, "unknown field"}})));
      }
    }
  }
  if (items == nullptr || !items->is_array()) {
    return std::move(writer).Send(ProblemFromStatus(InvalidArgumentWithFields(
        "invalid batch", {{"notifications", "must be an array of 1-100 notifications"}})));
  }
  if (items->empty() || items->size() > Pipeline::kMaxBatch) {
    return std::move(writer).Send(ProblemFromStatus(InvalidArgumentWithFields(
        "invalid batch",
        {{"notifications", absl::StrCat("must hold 1-100 notifications, not ", items->size())}})));
  }

  // Parse each item; bad ones get their own result and are not submitted.
  const absl::Time now = engine_->clock().Now();
  std::vector<nlohmann::json> results(items->size());
  std::vector<Notification> valid;
  std::vector<size_t> index_of_valid;
  for (size_t i = 0; i < items->size(); ++i) {
    absl::StatusOr<Notification> n = NotificationFromRequestJson((*items)[i], now);
    if (!n.ok()) {
      results[i] = {{"index", i}, {"status", HttpStatusFor(n.status())},
                    {"error", ProblemJson(n.status())}};
      continue;
    }
    index_of_valid.push_back(i);
    valid.push_back(*std::move(n));
  }
  RateLimitInfo limit;
  if (!valid.empty()) {
    SubmitContext ctx;
    ctx.tenant_id = who->tenant_id;
    ctx.idempotency_key = std::move(*idem);
    ctx.traceparent = req.traceparent;
    ctx.validated = true;
    // Positions in the Idempotency-Key suffix are the request's, so key the
    // items here rather than by their position among the valid ones.
    if (!ctx.idempotency_key.empty()) {
      for (size_t j = 0; j < valid.size(); ++j) {
        if (valid[j].dedup_key.empty()) {
          valid[j].dedup_key = BatchItemDedupKey(ctx.idempotency_key, index_of_valid[j]);
        }
      }
      ctx.idempotency_key.clear();
    }
    absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> r =
        engine_->pipeline().SubmitBatch(ctx, std::move(valid));
    if (!r.ok()) {
      if (r.status().code() == absl::StatusCode::kResourceExhausted) rate_limited_->Increment();
      return std::move(writer).Send(ProblemFromStatus(r.status()));
    }
    for (size_t j = 0; j < r->size(); ++j) {
      const size_t i = index_of_valid[j];
      const absl::StatusOr<SubmitResult>& item = (*r)[j];
      if (!item.ok()) {
        results[i] = {{"index", i}, {"status", HttpStatusFor(item.status())},
                      {"error", ProblemJson(item.status())}};
        continue;
      }
      limit = item->rate_limit;
      nlohmann::json out = SubmitBody(*item);
      out["index"] = i;
      out["status"] = item->duplicate ? 200 : 202;
      out["notification_status"] = std::string(NotificationStatusName(item->status));
      (item->duplicate ? duplicates_ : accepted_)->Increment();
      results[i] = std::move(out);
    }
  }
  int accepted = 0, duplicates = 0, failed = 0;
  for (const nlohmann::json& r : results) {
    int s = r["status"].get<int>();
    if (s == 202) ++accepted;
    else if (s == 200) ++duplicates;
    else ++failed;
  }
  Response res = JsonResponse(200, {{"results", results},
                                    {"accepted", accepted},
                                    {"duplicates", duplicates},
                                    {"failed", failed}});
  for (auto& h : RateLimitHeaders(limit)) res.headers.push_back(std::move(h));
  std::move(writer).Send(std::move(res));
}

void RouterService::Get(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kReadNotifications);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  // Ids are stored in lowercase; accept any case.
  const std::string id = absl::AsciiStrToLower(req.path_params["id"]);
  absl::StatusOr<Notification> n = IsUuid(id)
      ? engine_->store().GetNotification(who->tenant_id, id)
      : absl::StatusOr<Notification>(absl::NotFoundError(""));
  if (!n.ok()) return std::move(writer).Send(NotificationProblem(n.status(), id));
  std::move(writer).Send(JsonResponse(200, NotificationToJson(*n)));
}

void RouterService::Cancel(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kSendNotifications);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  const std::string id = absl::AsciiStrToLower(req.path_params["id"]);
  SubmitContext ctx;
  ctx.tenant_id = who->tenant_id;
  ctx.traceparent = req.traceparent;
  absl::StatusOr<Notification> n = absl::NotFoundError("");
  if (IsUuid(id)) {
    n = RunAudited(&engine_->store(), &engine_->clock(), RestAuditActor(req, *who),
                   "notification.cancel", id, [&] {
                     AuditScope::Describe("", nullptr, {{"status", "cancelled"}});
                     return engine_->pipeline().Cancel(ctx, id);
                   });
  }
  if (!n.ok()) return std::move(writer).Send(NotificationProblem(n.status(), id));
  std::move(writer).Send(JsonResponse(200, NotificationToJson(*n)));
}

void RouterService::Events(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kReadNotifications);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  const std::string id = absl::AsciiStrToLower(req.path_params["id"]);
  absl::StatusOr<std::vector<CloudEvent>> events =
      IsUuid(id) ? engine_->store().ListEvents(who->tenant_id, id)
                 : absl::StatusOr<std::vector<CloudEvent>>(absl::NotFoundError(""));
  if (!events.ok()) return std::move(writer).Send(NotificationProblem(events.status(), id));
  nlohmann::json list = nlohmann::json::array();
  for (const CloudEvent& e : *events) list.push_back(CloudEventToJson(e));
  std::move(writer).Send(JsonResponse(200, {{"events", std::move(list)}}));
}

void RouterService::List(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kReadNotifications);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  absl::StatusOr<ListOptions> o = ParseListQuery(req);
  if (!o.ok()) return std::move(writer).Send(QueryProblem(o.status()));
  NotificationFilter filter;
  filter.status = o->status;
  filter.type = o->type;
  filter.since = o->since;
  filter.limit = o->limit;
  if (!o->cursor.empty()) filter.before_id = *DecodeListCursor(o->cursor);
  absl::StatusOr<NotificationPage> page =
      engine_->store().ListNotifications(who->tenant_id, filter);
  if (!page.ok()) return std::move(writer).Send(ProblemFromStatus(page.status()));
  nlohmann::json items = nlohmann::json::array();
  for (const Notification& n : page->items) items.push_back(NotificationToJson(n));
  nlohmann::json body = {{"notifications", std::move(items)}};
  if (page->has_more && !page->items.empty()) {
    body["next_cursor"] = EncodeListCursor(page->items.back().id);
  }
  std::move(writer).Send(JsonResponse(200, body));
}

http::WebSocketAcceptResult RouterService::AcceptWebSocket(const Request& req) {
  absl::StatusOr<Principal> who =
      Authenticate(req, Permission::kReadNotifications, /*allow_query_key=*/true);
  if (!who.ok()) return ProblemFromStatus(who.status());
  return std::unique_ptr<http::WebSocketHandler>(
      new UpdatesSocket(&engine_->kv(), who->tenant_id));
}

void RouterService::Ready(Request, ResponseWriter writer) {
  nlohmann::json checks = nlohmann::json::object();
  bool ready = true;
  auto check = [&](const char* name, const absl::Status& s) {
    checks[name] = s.ok() ? std::string("ok") : s.ToString();
    ready = ready && s.ok();
  };
  check("store", engine_->store().Ping());
  check("kv", engine_->kv().Ping());
  check("bus", engine_->event_log().Ping());
  check("queue", engine_->task_queue().Ping());
  std::move(writer).Send(JsonResponse(
      ready ? 200 : 503, {{"status", ready ? "ready" : "unavailable"}, {"checks", checks}}));
}

}  // namespace alerthub::server
