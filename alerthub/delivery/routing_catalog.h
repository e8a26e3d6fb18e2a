// RoutingCatalog: the tenant-scoped management of routing rules, users and
// their preferences behind `/api/v1/rules`, `/api/v1/users` and
// alerthub::Client, transport-free, as Catalog is for integrations and
// templates. It validates requests with field-level errors (the model's
// *FromRequestJson), assigns ids and timestamps, enforces the per-tenant rule
// limit, keeps a RulesTargetResolver's cache current and runs its dry run.
//
//   RoutingCatalog routing(&store, &resolver, &clock);
//   ALERTHUB_ASSIGN_OR_RETURN(Rule r, routing.CreateRule(tenant_id, request_json));
//   ALERTHUB_ASSIGN_OR_RETURN(RoutingPlan plan, routing.Evaluate(tenant_id, notification));
//   nlohmann::json shown = RoutingPlanToJson(plan);
//
// Every rule change made through a RoutingCatalog invalidates the resolver's
// copy of the tenant's rules at once; changes made by other processes reach
// it within RulesTargetResolverOptions::max_staleness.
//
// Thread-safe.
#ifndef ALERTHUB_DELIVERY_ROUTING_CATALOG_H_
#define ALERTHUB_DELIVERY_ROUTING_CATALOG_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/rule.h"
#include "alerthub/model/user.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/store.h"
#include "alerthub/rules/rules_resolver.h"
#include "nlohmann/json.hpp"

namespace alerthub {

// The request form of `rule` (RuleToJson without the fields AlertHub
// assigns: id, tenant_id, created_at, updated_at): what RuleFromRequestJson
// reads back into the same rule.
nlohmann::json RuleRequestJson(const Rule& rule);

// The request form of `user` (UserToJson without id, tenant_id, created_at).
nlohmann::json UserRequestJson(const User& user);

// What audit records show of a user (ports/audit.h): id and role, and only
// which personal fields are set (kRedactedPersonalData), never their values.
inline constexpr char kRedactedPersonalData[] = "[personal data]";
nlohmann::json UserAuditSummary(const User& u);

// A RuleSource (rules_resolver.h) reading the tenant's rules from `store`,
// which must outlive it.
RuleSource StoreRuleSource(Store* store);

struct RoutingCatalogOptions {
  // Rules one tenant may have; creating one more is kInvalidArgument.
  size_t max_rules_per_tenant = StoreLimits::kMaxRulesPerTenant;
};

class RoutingCatalog {
 public:
  // `store`, `resolver` and `clock` must outlive the catalog.
  RoutingCatalog(Store* store, RulesTargetResolver* resolver, Clock* clock,
                 RoutingCatalogOptions options = {})
      : store_(store), resolver_(resolver), clock_(clock), options_(options) {}

  // --- Rules ---
  // A new rule from a request body. kInvalidArgument with field errors for a
  // bad request, or (field "") when the tenant already has
  // options.max_rules_per_tenant rules.
  absl::StatusOr<Rule> CreateRule(absl::string_view tenant_id, const nlohmann::json& request);
  // kNotFound when absent or another tenant's.
  absl::StatusOr<Rule> GetRule(absl::string_view tenant_id, absl::string_view id);
  // Every rule of the tenant, enabled or not, in evaluation order.
  absl::StatusOr<std::vector<Rule>> ListRules(absl::string_view tenant_id);
  // Replaces the rule with the request body (PUT): kNotFound as GetRule,
  // kInvalidArgument as CreateRule.
  absl::StatusOr<Rule> ReplaceRule(absl::string_view tenant_id, absl::string_view id,
                                   const nlohmann::json& request);
  // A JSON merge patch (RFC 7396) of the rule's request form; the result is
  // validated like a create. kNotFound as GetRule.
  absl::StatusOr<Rule> PatchRule(absl::string_view tenant_id, absl::string_view id,
                                 const nlohmann::json& patch);
  // kNotFound as GetRule.
  absl::Status DeleteRule(absl::string_view tenant_id, absl::string_view id);

  // What the tenant's stored rules would do with `n` (a submission's fields,
  // checked as a submission is: kInvalidArgument with field errors), without
  // side effects: throttles are looked at, not counted.
  absl::StatusOr<RoutingPlan> Evaluate(absl::string_view tenant_id, Notification n);

  // --- Users and preferences ---
  // A new user from a request body. kInvalidArgument with field errors;
  // kAlreadyExists when another user of the tenant has the email (in any
  // case).
  absl::StatusOr<User> CreateUser(absl::string_view tenant_id, const nlohmann::json& request);
  // kNotFound when absent or another tenant's.
  absl::StatusOr<User> GetUser(absl::string_view tenant_id, absl::string_view id);
  // Oldest first; kInvalidArgument for a limit outside 1-500.
  absl::StatusOr<Page<User>> ListUsers(absl::string_view tenant_id, const PageRequest& page);
  // Replaces the user's email, name, role and addresses with the request
  // body (PUT). kNotFound, kInvalidArgument, kAlreadyExists as above.
  absl::StatusOr<User> ReplaceUser(absl::string_view tenant_id, absl::string_view id,
                                   const nlohmann::json& request);
  // Deletes the user and their preferences. kNotFound as GetUser.
  absl::Status DeleteUser(absl::string_view tenant_id, absl::string_view id);
  // The defaults when never set. kNotFound as GetUser.
  absl::StatusOr<Preferences> GetPreferences(absl::string_view tenant_id,
                                             absl::string_view user_id);
  // Replaces the preferences with the request body (absent fields take the
  // defaults). kInvalidArgument with field errors; kNotFound as GetUser.
  absl::StatusOr<Preferences> SetPreferences(absl::string_view tenant_id,
                                             absl::string_view user_id,
                                             const nlohmann::json& request);

  Store& store() const { return *store_; }
  Clock& clock() const { return *clock_; }

 private:
  // Stores `rule` (validated) as the replacement of `current`.
  absl::StatusOr<Rule> StoreReplacement(const Rule& current, Rule rule);

  Store* const store_;
  RulesTargetResolver* const resolver_;
  Clock* const clock_;
  const RoutingCatalogOptions options_;
  // Serializes rule creation in this process, so concurrent creates cannot
  // take a tenant past the limit together. (Other processes can: the limit
  // is checked, not enforced by the store.)
  absl::Mutex create_mu_;
};

}  // namespace alerthub

#endif  // ALERTHUB_DELIVERY_ROUTING_CATALOG_H_
