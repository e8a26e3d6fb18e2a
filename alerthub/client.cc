#include "alerthub/client.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/uuid.h"
#include "alerthub/delivery/routing_catalog.h"
#include "alerthub/engine/engine.h"
#include "alerthub/internal/watch_dispatcher.h"
#include "alerthub/remote/remote_client.h"
#include "alerthub/rules/rules_resolver.h"

namespace alerthub {
namespace {

constexpr absl::string_view kCursorPrefix = "n1:";

// Watch over the tenant's Kv channel.
class EmbeddedWatch final : public WatchHandle {
 public:
  EmbeddedWatch(std::unique_ptr<client_internal::WatchDispatcher> dispatcher)
      : dispatcher_(std::move(dispatcher)) {}
  ~EmbeddedWatch() override {
    subscription_.reset();  // no more pushes
    dispatcher_.reset();    // then stop the callback thread
  }
  int64_t dropped() const override { return dispatcher_->dropped(); }

  void set_subscription(std::unique_ptr<Subscription> s) { subscription_ = std::move(s); }
  client_internal::WatchDispatcher* dispatcher() { return dispatcher_.get(); }

 private:
  std::unique_ptr<client_internal::WatchDispatcher> dispatcher_;
  std::unique_ptr<Subscription> subscription_;
};

bool Matches(const WatchOptions& options, const StatusUpdate& u) {
  if (options.min_priority.has_value() &&
      static_cast<int>(u.priority) < static_cast<int>(*options.min_priority)) {
    return false;
  }
  if (options.types.empty()) return true;
  for (const std::string& t : options.types) {
    if (t == u.notification_type) return true;
  }
  return false;
}

class EmbeddedClient final : public Client {
 public:
  EmbeddedClient(std::unique_ptr<Engine> engine, Tenant tenant)
      : engine_(std::move(engine)),
        tenant_(std::move(tenant)),
        resolver_(&engine_->store(), &engine_->kv(), StoreRuleSource(&engine_->store()),
                  ResolverOptions(engine_->clock())),
        routing_(&engine_->store(), &resolver_, &engine_->clock()) {}

  absl::StatusOr<SubmitResult> Submit(const Notification& n,
                                      const SubmitOptions& options) override {
    return engine_->pipeline().Submit(Context(options), n);
  }

  absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> SubmitBatch(
      absl::Span<const Notification> items, const SubmitOptions& options) override {
    return engine_->pipeline().SubmitBatch(
        Context(options), std::vector<Notification>(items.begin(), items.end()));
  }

  absl::StatusOr<Notification> Get(absl::string_view id) override {
    return engine_->store().GetNotification(tenant_.id, id);
  }

  absl::StatusOr<std::vector<CloudEvent>> ListEvents(absl::string_view id) override {
    return engine_->store().ListEvents(tenant_.id, id);
  }

  absl::StatusOr<NotificationList> List(const ListOptions& options) override {
    if (options.limit < 1 || options.limit > 500) {
      return InvalidArgumentWithFields("invalid list request",
                                       {{"limit", "must be an integer between 1 and 500"}});
    }
    NotificationFilter filter;
    filter.status = options.status;
    filter.type = options.type;
    filter.since = options.since;
    filter.limit = options.limit;
    if (!options.cursor.empty()) {
      ALERTHUB_ASSIGN_OR_RETURN(filter.before_id, DecodeListCursor(options.cursor));
    }
    ALERTHUB_ASSIGN_OR_RETURN(NotificationPage page,
                              engine_->store().ListNotifications(tenant_.id, filter));
    NotificationList out;
    if (page.has_more && !page.items.empty()) {
      out.next_cursor = EncodeListCursor(page.items.back().id);
    }
    out.items = std::move(page.items);
    return out;
  }

  absl::StatusOr<Rule> CreateRule(const Rule& rule) override {
    return routing_.CreateRule(tenant_.id, RuleRequestJson(rule));
  }

  absl::StatusOr<Rule> GetRule(absl::string_view id) override {
    return routing_.GetRule(tenant_.id, id);
  }

  absl::StatusOr<std::vector<Rule>> ListRules() override { return routing_.ListRules(tenant_.id); }

  absl::StatusOr<Rule> UpdateRule(const Rule& rule) override {
    return routing_.ReplaceRule(tenant_.id, rule.id, RuleRequestJson(rule));
  }

  absl::Status DeleteRule(absl::string_view id) override {
    return routing_.DeleteRule(tenant_.id, id);
  }

  absl::StatusOr<nlohmann::json> EvaluateRule(const Notification& n) override {
    ALERTHUB_ASSIGN_OR_RETURN(RoutingPlan plan, routing_.Evaluate(tenant_.id, n));
    return RoutingPlanToJson(plan);
  }

  absl::StatusOr<std::unique_ptr<WatchHandle>> Watch(const WatchOptions& options,
                                                     UpdateCallback callback) override {
    if (!callback) return absl::InvalidArgumentError("Watch needs a callback");
    auto watch = std::make_unique<EmbeddedWatch>(
        std::make_unique<client_internal::WatchDispatcher>(std::move(callback),
                                                           options.max_queue));
    client_internal::WatchDispatcher* dispatcher = watch->dispatcher();
    ALERTHUB_ASSIGN_OR_RETURN(
        std::unique_ptr<Subscription> sub,
        engine_->kv().Subscribe(UpdatesChannel(tenant_.id),
                                [dispatcher, options](absl::string_view message) {
                                  absl::StatusOr<StatusUpdate> u = StatusUpdateFromJson(message);
                                  if (u.ok() && Matches(options, *u)) dispatcher->Push(*std::move(u));
                                }));
    watch->set_subscription(std::move(sub));
    return std::unique_ptr<WatchHandle>(std::move(watch));
  }

 private:
  SubmitContext Context(const SubmitOptions& options) const {
    SubmitContext ctx;
    ctx.tenant_id = tenant_.id;
    ctx.idempotency_key = options.idempotency_key;
    return ctx;
  }

  static RulesTargetResolverOptions ResolverOptions(Clock& clock) {
    RulesTargetResolverOptions o;
    o.clock = &clock;
    return o;
  }

  std::unique_ptr<Engine> engine_;
  const Tenant tenant_;
  // This client's changes invalidate the resolver's cache at once; other
  // processes' within its max_staleness.
  RulesTargetResolver resolver_;
  RoutingCatalog routing_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Open(const ClientOptions& options) {
  if (!options.endpoint.empty()) return OpenRemoteClient(options);
  EngineOptions engine_options;
  engine_options.store = options.store;
  engine_options.bus = options.bus;
  engine_options.queue = options.queue;
  engine_options.kv = options.kv;
  engine_options.pipeline = options.pipeline;
  ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Open(engine_options));
  ALERTHUB_ASSIGN_OR_RETURN(Tenant tenant, engine->EnsureTenant(options.tenant));
  return std::unique_ptr<Client>(new EmbeddedClient(std::move(engine), std::move(tenant)));
}

std::string EncodeListCursor(absl::string_view last_id) {
  return absl::WebSafeBase64Escape(absl::StrCat(kCursorPrefix, last_id));
}

absl::StatusOr<std::string> DecodeListCursor(absl::string_view cursor) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(cursor, &raw) || !absl::StartsWith(raw, kCursorPrefix) ||
      !IsUuid(absl::string_view(raw).substr(kCursorPrefix.size()))) {
    return InvalidArgumentWithFields("invalid list request", {{"cursor", "is malformed"}});
  }
  return raw.substr(kCursorPrefix.size());
}

}  // namespace alerthub
