// Routing rules: which notifications they match and what they do to them.
// A tenant's enabled rules are evaluated in ascending `position`; the first
// match stops evaluation unless it has `continue`. Evaluation itself lives in
// alerthub/rules; this is the value type, its codecs and validation.
//
//   absl::StatusOr<Rule> r = RuleFromRequestJson(nlohmann::json::parse(R"({
//       "name": "prod deploys to ops", "position": 10,
//       "match": {"type": "deploy.*", "min_priority": "high",
//                 "tags": [{"key": "env", "op": "=", "value": "prod"}]},
//       "actions": {"route": {"channels": ["slack"]},
//                   "throttle": {"limit": 10, "window_s": 60,
//                                "group_by": ["type"]}}})"));
//
// Wire shape (ARCHITECTURE §4 "Rule (request)"): {"name", "enabled" (default
// true), "position" (default 0), "continue" (default false), "match": {"type"
// (glob), "min_priority", "max_priority", "tags": [{"key", "op": "=|!=|=~|!~",
// "value"}], "recipients_present", "any": [match...], "all": [match...]},
// "actions": {"route": {"integration_ids", "channels"}, "suppress",
// "priority": {"set": p} | {"raise": n}, "throttle": {"limit", "window_s",
// "group_by"}, "digest": {"group_by", "group_wait_s", "group_interval_s"},
// "delay_s"}}; id, tenant_id, created_at and updated_at are assigned by
// AlertHub. Unknown fields are rejected. `=~` and `!~` take RE2 syntax
// (linear-time matching, so a tenant's pattern cannot stall the router).
#ifndef ALERTHUB_MODEL_RULE_H_
#define ALERTHUB_MODEL_RULE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/model/notification.h"
#include "nlohmann/json.hpp"

namespace alerthub {

struct RuleLimits {
  static constexpr size_t kMaxNameLength = 128;  // characters
  static constexpr int64_t kMaxPosition = 1'000'000;
  static constexpr size_t kMaxTypeGlobLength = 128;
  static constexpr size_t kMaxTagConditions = 32;
  static constexpr size_t kMaxTagValueLength = 256;
  static constexpr size_t kMaxGroups = 16;  // entries of each any/all
  static constexpr int kMaxMatchDepth = 4;  // the top-level match is 1
  static constexpr size_t kMaxIntegrationIds = 50;
  static constexpr size_t kMaxGroupBy = 8;
  static constexpr int64_t kMaxThrottleLimit = 1'000'000;
  static constexpr int64_t kMaxThrottleWindowSeconds = 7 * 24 * 3600;
  static constexpr int64_t kMaxDigestWaitSeconds = 24 * 3600;
  static constexpr int64_t kMaxDigestIntervalSeconds = 7 * 24 * 3600;
  static constexpr int64_t kMaxDelaySeconds = 30 * 24 * 3600;
};

// Stored as numbers; never renumbered.
enum class TagOp : int {
  kEqual = 1,       // "="
  kNotEqual = 2,    // "!="; also holds when the tag is absent
  kMatches = 3,     // "=~", RE2, must match the whole value
  kNotMatches = 4,  // "!~"; also holds when the tag is absent
};

absl::string_view TagOpName(TagOp op);
absl::StatusOr<TagOp> ParseTagOp(absl::string_view name);

struct TagCondition {
  std::string key;  // a tag key, [A-Za-z0-9_.-]{1,64}
  TagOp op = TagOp::kEqual;
  std::string value;  // the value, or the pattern for =~ and !~
};

// Every condition that is set must hold. An empty match matches everything.
struct RuleMatch {
  std::string type;  // glob over the type, '*' any run; empty: any type
  std::optional<Priority> min_priority;
  std::optional<Priority> max_priority;
  std::vector<TagCondition> tags;          // all must hold
  std::optional<bool> recipients_present;  // the notification names users
  std::vector<RuleMatch> any;              // when non-empty, one must hold
  std::vector<RuleMatch> all;              // each must hold
};

struct RouteAction {
  std::vector<std::string> integration_ids;
  std::vector<Channel> channels;  // the tenant's integrations on them
};

// Exactly one of `set` and `raise`.
struct PriorityAction {
  std::optional<Priority> set;
  int raise = 0;  // 1-4 levels up, capped at critical
};

// At most `limit` notifications per `window` and group; the rest are
// suppressed.
struct ThrottleAction {
  int64_t limit = 0;
  absl::Duration window;  // "window_s"
  // "type", "priority", "recipient" or "tags.<key>"; empty: one group.
  std::vector<std::string> group_by;
};

// Notifications of a group are held and delivered as one digest: the first
// after `group_wait`, later ones every `group_interval` (as Alertmanager).
struct DigestAction {
  std::vector<std::string> group_by;              // as ThrottleAction::group_by
  absl::Duration group_wait = absl::Seconds(30);  // "group_wait_s"
  absl::Duration group_interval = absl::Minutes(5);  // "group_interval_s"
};

struct RuleActions {
  std::optional<RouteAction> route;
  bool suppress = false;  // drop; cannot be combined with other actions
  std::optional<PriorityAction> priority;
  std::optional<ThrottleAction> throttle;
  std::optional<DigestAction> digest;
  absl::Duration delay = absl::ZeroDuration();  // "delay_s"
};

struct Rule {
  std::string id;         // UUIDv7
  std::string tenant_id;  // from the credential, never from the body
  std::string name;       // for people, 1-128 characters
  bool enabled = true;
  int position = 0;                // ascending evaluation order
  bool continue_matching = false;  // "continue" on the wire
  RuleMatch match;
  RuleActions actions;
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
};

// Parses a create/replace request body. kInvalidArgument with one FieldError
// per broken rule ("match.tags[0].value", "actions.throttle.window_s", ...).
absl::StatusOr<Rule> RuleFromRequestJson(const nlohmann::json& j);

// The full record; unset optional parts are omitted.
nlohmann::json RuleToJson(const Rule& r);

// Reads what RuleToJson() wrote; the request rules apply, server-assigned
// fields are read and unknown fields ignored.
absl::StatusOr<Rule> RuleFromJson(const nlohmann::json& j);

}  // namespace alerthub

#endif  // ALERTHUB_MODEL_RULE_H_
