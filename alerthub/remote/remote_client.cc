#include "alerthub/remote/remote_client.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alerthub/common/status.h"
#include "alerthub/common/time.h"
#include "alerthub/delivery/routing_catalog.h"
#include "alerthub/model/event.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/rule.h"
#include "alerthub/remote/internal/curl_transport.h"
#include "alerthub/remote/internal/endpoint.h"
#include "alerthub/remote/internal/http_mapping.h"
#include "alerthub/remote/internal/ws_watch.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using remote_internal::CurlTransport;
using remote_internal::CurlTransportOptions;
using remote_internal::Endpoint;
using remote_internal::HttpRequest;
using remote_internal::HttpResponse;
using remote_internal::PercentEncode;

constexpr int kMaxRetries = 3;
constexpr absl::string_view kNotifications = "/api/v1/notifications";
constexpr absl::string_view kRules = "/api/v1/rules";
// Pipeline::kMaxBatch, without depending on the pipeline's implementation.
constexpr size_t kMaxBatch = 100;

// Whether a failed call may be sent again.
enum class Replay {
  kSafe,           // GET, or a POST the router dedupes by key
  kOnlyIfNotSent,  // a POST that could be stored twice
};

// Every member the router assigns; a request body must not have them.
constexpr const char* kAssignedFields[] = {"id", "tenant_id", "status", "created_at", "updated_at"};

// The submitter's fields of `n` as the router's request JSON.
absl::StatusOr<std::string> RequestBody(const Notification& n) {
  nlohmann::json j = NotificationToJson(n);
  for (const char* field : kAssignedFields) j.erase(field);
  // An empty type is "missing" to embedded validation; say so the same way.
  if (n.type.empty()) j.erase("type");
  try {
    return j.dump();
  } catch (const nlohmann::json::type_error&) {
    // A string that is not UTF-8 cannot be sent; validation names the field
    // exactly as embedded mode would.
    absl::Status s = ValidateNotification(n, absl::Now());
    if (!s.ok()) return s;
    return absl::InvalidArgumentError("invalid notification: a field is not valid UTF-8");
  }
}

// Adds the Idempotency-Key header. The key must be what the router accepts
// (1-256 printable ASCII characters): it goes into a header line as is.
absl::Status AddIdempotencyKey(const SubmitOptions& options, HttpRequest* req) {
  const std::string& key = options.idempotency_key;
  if (key.empty()) return absl::OkStatus();
  ALERTHUB_RETURN_IF_ERROR(ValidateIdempotencyKey(key));
  req->headers.emplace_back("Idempotency-Key", key);
  return absl::OkStatus();
}

HttpRequest Request(absl::string_view method, std::string target) {
  HttpRequest req;
  req.method = std::string(method);
  req.target = std::move(target);
  return req;
}

HttpRequest GetRequest(std::string target) {
  HttpRequest req;
  req.target = std::move(target);
  return req;
}

HttpRequest PostRequest(std::string target) {
  HttpRequest req;
  req.method = "POST";
  req.target = std::move(target);
  return req;
}

CurlTransportOptions TransportOptions(const Endpoint& endpoint, const std::string& api_key,
                                      absl::Duration timeout) {
  CurlTransportOptions o;
  o.base_url = endpoint.base_url;
  o.api_key = api_key;
  o.timeout = timeout;
  return o;
}

absl::Status MalformedAnswer(absl::string_view what, absl::string_view why) {
  return absl::InternalError(absl::StrCat("malformed answer from the router to ", what, ": ", why));
}

nlohmann::json ParseJson(const HttpResponse& r) {
  return nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
}

const std::string* StringMember(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

// The request form of `rule` as the router reads it.
absl::StatusOr<std::string> RuleBody(const Rule& rule) {
  try {
    return RuleRequestJson(rule).dump();
  } catch (const nlohmann::json::type_error&) {
    return InvalidArgumentWithFields("invalid rule", {{"", "a field is not valid UTF-8"}});
  }
}

absl::StatusOr<Rule> ParseRule(const nlohmann::json& j, absl::string_view what) {
  absl::StatusOr<Rule> r = RuleFromJson(j);
  if (!r.ok()) return MalformedAnswer(what, r.status().message());
  return r;
}

bool BoolMember(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

// The SubmitResult of an accepted or duplicate item. `status_member` names
// the notification status: "status" in a submit answer,
// "notification_status" in a batch item.
absl::StatusOr<SubmitResult> ParseSubmitResult(const nlohmann::json& j, const char* status_member,
                                               const RateLimitInfo& limit) {
  if (!j.is_object()) return MalformedAnswer("a submission", "not a JSON object");
  const std::string* id = StringMember(j, "id");
  if (id == nullptr || id->empty()) return MalformedAnswer("a submission", "no id");
  SubmitResult r;
  r.id = *id;
  if (const std::string* s = StringMember(j, status_member)) {
    absl::StatusOr<NotificationStatus> status = ParseNotificationStatus(*s);
    if (!status.ok()) return MalformedAnswer("a submission", status.status().message());
    r.status = *status;
  }
  r.duplicate = BoolMember(j, "duplicate");
  r.rate_limit = limit;
  return r;
}

class RemoteClient final : public Client {
 public:
  RemoteClient(Endpoint endpoint, std::string api_key, absl::Duration timeout)
      : endpoint_(std::move(endpoint)),
        api_key_(std::move(api_key)),
        timeout_(timeout),
        transport_(TransportOptions(endpoint_, api_key_, timeout)) {}

  absl::StatusOr<SubmitResult> Submit(const Notification& n,
                                      const SubmitOptions& options) override {
    HttpRequest req = PostRequest(std::string(kNotifications));
    ALERTHUB_RETURN_IF_ERROR(AddIdempotencyKey(options, &req));
    ALERTHUB_ASSIGN_OR_RETURN(req.body, RequestBody(n));
    const bool keyed = !options.idempotency_key.empty() || !n.dedup_key.empty();
    ALERTHUB_ASSIGN_OR_RETURN(HttpResponse res,
                              Call(req, keyed ? Replay::kSafe : Replay::kOnlyIfNotSent));
    return ParseSubmitResult(ParseJson(res), "status", remote_internal::RateLimitFromHeaders(res));
  }

  absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> SubmitBatch(
      absl::Span<const Notification> items, const SubmitOptions& options) override {
    if (items.empty() || items.size() > kMaxBatch) {
      // As Pipeline::SubmitBatch words it, so both modes fail alike.
      return InvalidArgumentWithFields(
          "invalid batch", {{"items", absl::StrCat("must hold 1-", kMaxBatch, " notifications")}});
    }
    HttpRequest req = PostRequest(absl::StrCat(kNotifications, "/batch"));
    ALERTHUB_RETURN_IF_ERROR(AddIdempotencyKey(options, &req));
    std::vector<absl::StatusOr<SubmitResult>> out(
        items.size(), absl::StatusOr<SubmitResult>(absl::InternalError("no result")));

    // An item that cannot be encoded (not UTF-8) gets its error here and is
    // left out, as embedded mode leaves out an invalid item.
    std::vector<std::string> bodies(items.size());
    std::vector<size_t> sent;  // request position -> index in `items`
    for (size_t i = 0; i < items.size(); ++i) {
      absl::StatusOr<std::string> body = RequestBody(items[i]);
      if (body.ok()) {
        bodies[i] = *std::move(body);
        sent.push_back(i);
      } else {
        out[i] = body.status();
      }
    }
    if (sent.empty()) return out;
    if (sent.size() < items.size() && !options.idempotency_key.empty()) {
      // The router keys item j of the request "<key>#j"; with items left out
      // that is not its index in `items`, so key the items here instead.
      req.headers.clear();
      for (size_t i : sent) {
        if (!items[i].dedup_key.empty()) continue;
        Notification keyed = items[i];
        keyed.dedup_key = BatchItemDedupKey(options.idempotency_key, i);
        ALERTHUB_ASSIGN_OR_RETURN(bodies[i], RequestBody(keyed));
      }
    }
    req.body = R"({"notifications":[)";
    bool every_item_keyed = true;
    for (size_t j = 0; j < sent.size(); ++j) {
      absl::StrAppend(&req.body, j == 0 ? "" : ",", bodies[sent[j]]);
      every_item_keyed = every_item_keyed && !items[sent[j]].dedup_key.empty();
    }
    req.body += "]}";
    const bool keyed = !options.idempotency_key.empty() || every_item_keyed;
    ALERTHUB_ASSIGN_OR_RETURN(HttpResponse res,
                              Call(req, keyed ? Replay::kSafe : Replay::kOnlyIfNotSent));

    const nlohmann::json j = ParseJson(res);
    auto results = j.is_object() ? j.find("results") : j.end();
    if (!j.is_object() || results == j.end() || !results->is_array() ||
        results->size() != sent.size()) {
      return MalformedAnswer("a batch", "expected one result per notification");
    }
    const RateLimitInfo limit = remote_internal::RateLimitFromHeaders(res);
    std::vector<bool> seen(sent.size(), false);
    for (const nlohmann::json& item : *results) {
      auto index = item.is_object() ? item.find("index") : item.end();
      auto status = item.is_object() ? item.find("status") : item.end();
      if (index == item.end() || !index->is_number_unsigned() || status == item.end() ||
          !status->is_number_integer()) {
        return MalformedAnswer("a batch", "a result without index or status");
      }
      const size_t position = index->get<size_t>();
      if (position >= sent.size() || seen[position]) {
        return MalformedAnswer("a batch", "a bad index");
      }
      seen[position] = true;
      const size_t i = sent[position];
      const int http_status = status->get<int>();
      if (http_status >= 200 && http_status < 300) {
        out[i] = ParseSubmitResult(item, "notification_status", limit);
      } else {
        auto error = item.find("error");
        out[i] = remote_internal::StatusFromProblem(
            http_status, error != item.end() ? *error : nlohmann::json::object(), nullptr);
      }
    }
    return out;
  }

  absl::StatusOr<Notification> Get(absl::string_view id) override {
    ALERTHUB_ASSIGN_OR_RETURN(std::string path, NotificationPath(id));
    ALERTHUB_ASSIGN_OR_RETURN(HttpResponse res, Call(GetRequest(path), Replay::kSafe));
    absl::StatusOr<Notification> n = NotificationFromJson(ParseJson(res));
    if (!n.ok()) return MalformedAnswer("GET notification", n.status().message());
    return n;
  }

  absl::StatusOr<std::vector<CloudEvent>> ListEvents(absl::string_view id) override {
    ALERTHUB_ASSIGN_OR_RETURN(std::string path, NotificationPath(id));
    ALERTHUB_ASSIGN_OR_RETURN(HttpResponse res,
                              Call(GetRequest(absl::StrCat(path, "/events")), Replay::kSafe));
    const nlohmann::json j = ParseJson(res);
    auto events = j.is_object() ? j.find("events") : j.end();
    if (!j.is_object() || events == j.end() || !events->is_array()) {
      return MalformedAnswer("GET events", "no \"events\" array");
    }
    std::vector<CloudEvent> out;
    out.reserve(events->size());
    for (const nlohmann::json& e : *events) {
      absl::StatusOr<CloudEvent> event = CloudEventFromJson(e);
      if (!event.ok()) return MalformedAnswer("GET events", event.status().message());
      out.push_back(*std::move(event));
    }
    return out;
  }

  absl::StatusOr<NotificationList> List(const ListOptions& options) override {
    std::string query = absl::StrCat("?limit=", options.limit);
    if (options.status.has_value()) {
      absl::StrAppend(&query, "&status=", NotificationStatusName(*options.status));
    }
    if (!options.type.empty()) absl::StrAppend(&query, "&type=", PercentEncode(options.type));
    if (options.since.has_value() && *options.since != absl::InfinitePast()) {
      absl::StrAppend(&query, "&since=", PercentEncode(FormatRfc3339(*options.since)));
    }
    if (!options.cursor.empty()) {
      absl::StrAppend(&query, "&cursor=", PercentEncode(options.cursor));
    }
    ALERTHUB_ASSIGN_OR_RETURN(HttpResponse res,
                              Call(GetRequest(absl::StrCat(kNotifications, query)), Replay::kSafe));
    const nlohmann::json j = ParseJson(res);
    auto items = j.is_object() ? j.find("notifications") : j.end();
    if (!j.is_object() || items == j.end() || !items->is_array()) {
      return MalformedAnswer("a list", "no \"notifications\" array");
    }
    NotificationList out;
    out.items.reserve(items->size());
    for (const nlohmann::json& item : *items) {
      absl::StatusOr<Notification> n = NotificationFromJson(item);
      if (!n.ok()) return MalformedAnswer("a list", n.status().message());
      out.items.push_back(*std::move(n));
    }
    if (const std::string* cursor = StringMember(j, "next_cursor")) out.next_cursor = *cursor;
    return out;
  }

  absl::StatusOr<Rule> CreateRule(const Rule& rule) override {
    HttpRequest req = PostRequest(std::string(kRules));
    ALERTHUB_ASSIGN_OR_RETURN(req.body, RuleBody(rule));
    // Not repeatable: a retry could create the rule twice.
    ALERTHUB_ASSIGN_OR_RETURN(HttpResponse res, Call(req, Replay::kOnlyIfNotSent));
    return ParseRule(ParseJson(res), "POST rule");
  }

  absl::StatusOr<Rule> GetRule(absl::string_view id) override {
    ALERTHUB_ASSIGN_OR_RETURN(std::string path, ObjectPath(kRules, "rule", id));
    ALERTHUB_ASSIGN_OR_RETURN(HttpResponse res, Call(GetRequest(path), Replay::kSafe));
    return ParseRule(ParseJson(res), "GET rule");
  }

  absl::StatusOr<std::vector<Rule>> ListRules() override {
    ALERTHUB_ASSIGN_OR_RETURN(HttpResponse res,
                              Call(GetRequest(std::string(kRules)), Replay::kSafe));
    const nlohmann::json j = ParseJson(res);
    auto items = j.is_object() ? j.find("rules") : j.end();
    if (!j.is_object() || items == j.end() || !items->is_array()) {
      return MalformedAnswer("GET rules", "no \"rules\" array");
    }
    std::vector<Rule> out;
    out.reserve(items->size());
    for (const nlohmann::json& item : *items) {
      ALERTHUB_ASSIGN_OR_RETURN(Rule r, ParseRule(item, "GET rules"));
      out.push_back(std::move(r));
    }
    return out;
  }

  absl::StatusOr<Rule> UpdateRule(const Rule& rule) override {
    ALERTHUB_ASSIGN_OR_RETURN(std::string path, ObjectPath(kRules, "rule", rule.id));
    HttpRequest req = Request("PUT", std::move(path));
    ALERTHUB_ASSIGN_OR_RETURN(req.body, RuleBody(rule));
    // A replacement is idempotent.
    ALERTHUB_ASSIGN_OR_RETURN(HttpResponse res, Call(req, Replay::kSafe));
    return ParseRule(ParseJson(res), "PUT rule");
  }

  absl::Status DeleteRule(absl::string_view id) override {
    ALERTHUB_ASSIGN_OR_RETURN(std::string path, ObjectPath(kRules, "rule", id));
    // A repeated delete would answer 404 for a rule the first one deleted.
    return Call(Request("DELETE", std::move(path)), Replay::kOnlyIfNotSent).status();
  }

  absl::StatusOr<nlohmann::json> EvaluateRule(const Notification& n) override {
    HttpRequest req = PostRequest(absl::StrCat(kRules, "/evaluate"));
    ALERTHUB_ASSIGN_OR_RETURN(req.body, RequestBody(n));
    // A dry run changes nothing.
    ALERTHUB_ASSIGN_OR_RETURN(HttpResponse res, Call(req, Replay::kSafe));
    nlohmann::json plan = ParseJson(res);
    if (!plan.is_object()) return MalformedAnswer("a rule evaluation", "not a JSON object");
    return plan;
  }

  absl::StatusOr<std::unique_ptr<WatchHandle>> Watch(const WatchOptions& options,
                                                     UpdateCallback callback) override {
    ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<remote_internal::WebSocketWatch> watch,
                              remote_internal::WebSocketWatch::Start(endpoint_, api_key_, timeout_,
                                                                     options, std::move(callback)));
    return std::unique_ptr<WatchHandle>(std::move(watch));
  }

 private:
  // "/api/v1/notifications/{id}".
  static absl::StatusOr<std::string> NotificationPath(absl::string_view id) {
    return ObjectPath(kNotifications, "notification", id);
  }

  // "<collection>/{id}"; kNotFound for an empty id, which would name the
  // collection instead.
  static absl::StatusOr<std::string> ObjectPath(absl::string_view collection,
                                                absl::string_view what, absl::string_view id) {
    if (id.empty()) return absl::NotFoundError(absl::StrCat("no ", what, " with an empty id"));
    return absl::StrCat(collection, "/", PercentEncode(id));
  }

  // Sends `req`, retrying kUnavailable as `replay` allows; a non-2xx answer
  // becomes its status (http_mapping.h).
  absl::StatusOr<HttpResponse> Call(const HttpRequest& req, Replay replay) {
    for (int retry = 0;; ++retry) {
      bool maybe_sent = true;
      absl::StatusOr<HttpResponse> res = transport_.Send(req, &maybe_sent);
      absl::Status failure =
          res.ok() ? remote_internal::StatusFromHttpResponse(*res) : res.status();
      if (failure.ok()) return res;
      const bool may_retry = failure.code() == absl::StatusCode::kUnavailable &&
                             (replay == Replay::kSafe ||
                              (res.status().code() != absl::StatusCode::kOk && !maybe_sent));
      if (!may_retry || retry >= kMaxRetries) return failure;
      absl::SleepFor(remote_internal::RetryBackoff(retry));
    }
  }

  const Endpoint endpoint_;
  const std::string api_key_;
  const absl::Duration timeout_;
  CurlTransport transport_;
};

bool IsPrintableAscii(absl::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> OpenRemoteClient(const ClientOptions& options) {
  ALERTHUB_ASSIGN_OR_RETURN(Endpoint endpoint, remote_internal::ParseEndpoint(options.endpoint));
  if (options.api_key.empty()) {
    return InvalidArgumentWithFields("invalid client options",
                                     {{"api_key", "is required in remote mode"}});
  }
  if (!IsPrintableAscii(options.api_key)) {
    // It goes into a header line as is.
    return InvalidArgumentWithFields("invalid client options",
                                     {{"api_key", "must be printable ASCII without spaces"}});
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return InvalidArgumentWithFields("invalid client options", {{"timeout", "must be positive"}});
  }
  return std::unique_ptr<Client>(
      new RemoteClient(std::move(endpoint), options.api_key, options.timeout));
}

}  // namespace alerthub
