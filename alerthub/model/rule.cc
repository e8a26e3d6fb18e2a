#include "alerthub/model/rule.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "alerthub/common/status.h"
#include "alerthub/model/internal/validation.h"
#include "re2/re2.h"

namespace alerthub {
namespace {

using model_internal::FieldErrorList;
using model_internal::IndexPath;
using model_internal::Json;
using model_internal::ParseMode;
using model_internal::Path;
using model_internal::RequestObject;
using Limits = RuleLimits;

constexpr absl::string_view kTagOpNames[] = {"=", "!=", "=~", "!~"};
constexpr absl::string_view kTagOpRule = "must be one of =, !=, =~, !~";
constexpr absl::string_view kTypeGlobRule =
    "must be a type or a glob of a-z, 0-9, '.', '_', '-' and '*'";
constexpr absl::string_view kTagKeyRule =
    "must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'";
constexpr absl::string_view kGroupByRule =
    "must be type, priority, recipient or tags.<key>";

enum RuleField : size_t {
  kName,
  kEnabled,
  kPosition,
  kContinue,
  kMatch,
  kActions,
  kId,
  kTenantId,
  kCreatedAt,
  kUpdatedAt
};
constexpr absl::string_view kRuleFields[] = {
    "name",    "enabled", "position",  "continue",   "match",
    "actions", "id",      "tenant_id", "created_at", "updated_at"};
static_assert(std::size(kRuleFields) == kUpdatedAt + 1);
constexpr size_t kNumAssigned = 4;

enum MatchField : size_t {
  kType,
  kMinPriority,
  kMaxPriority,
  kTags,
  kRecipientsPresent,
  kAny,
  kAll
};
constexpr absl::string_view kMatchFields[] = {
    "type", "min_priority", "max_priority", "tags", "recipients_present",
    "any",  "all"};
static_assert(std::size(kMatchFields) == kAll + 1);

constexpr absl::string_view kTagFields[] = {"key", "op", "value"};

enum ActionField : size_t {
  kRoute,
  kSuppress,
  kPriorityAction,
  kThrottle,
  kDigest,
  kDelay
};
constexpr absl::string_view kActionFields[] = {
    "route", "suppress", "priority", "throttle", "digest", "delay_s"};
static_assert(std::size(kActionFields) == kDelay + 1);

// Parsing state shared by the recursive descent.
struct Parser {
  ParseMode mode;
  FieldErrorList* errors;

  // `v` as an object at `path`, or nullptr after reporting it is not one.
  const Json* Object(const Json& v, absl::string_view path) {
    if (v.is_object()) return &v;
    errors->Add(std::string(path), model_internal::kMustBeObject);
    return nullptr;
  }

  std::optional<int64_t> Int(const Json* v, absl::string_view path, int64_t min,
                             int64_t max) {
    if (v == nullptr) return std::nullopt;
    return model_internal::GetInt(*v, path, min, max, errors);
  }

  void Tag(const Json& v, absl::string_view path, TagCondition* out) {
    if (Object(v, path) == nullptr) return;
    RequestObject obj(v, kTagFields, 0, path, mode, errors);
    if (const Json* key = obj.Get(0)) {
      std::string field = Path(path, "key");
      if (const std::string* s =
              model_internal::GetString(*key, field, errors)) {
        if (model_internal::IsTagKey(*s, 64)) {
          out->key = *s;
        } else {
          errors->Add(field, kTagKeyRule);
        }
      }
    } else {
      errors->Add(Path(path, "key"), model_internal::kRequired);
    }
    if (const Json* op = obj.Get(1)) {
      absl::StatusOr<TagOp> parsed =
          ParseTagOp(model_internal::StringOrEmpty(*op));
      if (parsed.ok()) {
        out->op = *parsed;
      } else {
        errors->Add(Path(path, "op"), kTagOpRule);
      }
    } else {
      errors->Add(Path(path, "op"), model_internal::kRequired);
    }
    std::string value_path = Path(path, "value");
    const Json* value = obj.Get(2);
    if (value == nullptr) {
      errors->Add(value_path, model_internal::kRequired);
    } else if (model_internal::ParseText(*value, value_path,
                                         Limits::kMaxTagValueLength, true,
                                         &out->value, errors) &&
               (out->op == TagOp::kMatches || out->op == TagOp::kNotMatches)) {
      RE2::Options options;
      options.set_log_errors(false);
      RE2 re(out->value, options);
      if (!re.ok()) {
        errors->Add(value_path,
                    absl::StrCat("must be a valid RE2 pattern: ", re.error()));
      }
    }
  }

  void Groups(const Json& v, absl::string_view path, int depth,
              std::vector<RuleMatch>* out) {
    if (!v.is_array()) {
      errors->Add(std::string(path), "must be an array of objects");
      return;
    }
    if (depth >= Limits::kMaxMatchDepth) {
      errors->Add(std::string(path),
                  absl::StrCat("must be nested at most ",
                               Limits::kMaxMatchDepth, " levels deep"));
      return;
    }
    if (v.size() > Limits::kMaxGroups) {
      errors->Add(std::string(path),
                  model_internal::CountRule(Limits::kMaxGroups));
    }
    out->resize(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      Match(v[i], IndexPath(path, i), depth + 1, &(*out)[i]);
    }
  }

  void Match(const Json& v, absl::string_view path, int depth, RuleMatch* out) {
    if (Object(v, path) == nullptr) return;
    RequestObject obj(v, kMatchFields, 0, path, mode, errors);
    if (const Json* type = obj.Get(kType)) {
      std::string field = Path(path, "type");
      if (const std::string* s =
              model_internal::GetString(*type, field, errors)) {
        if (model_internal::IsTypeGlob(*s, Limits::kMaxTypeGlobLength)) {
          out->type = *s;
        } else {
          errors->Add(field, kTypeGlobRule);
        }
      }
    }
    if (const Json* p = obj.Get(kMinPriority)) {
      out->min_priority = model_internal::ParsePriorityAt(
          *p, Path(path, "min_priority"), errors);
    }
    if (const Json* p = obj.Get(kMaxPriority)) {
      out->max_priority = model_internal::ParsePriorityAt(
          *p, Path(path, "max_priority"), errors);
    }
    if (out->min_priority.has_value() && out->max_priority.has_value() &&
        *out->max_priority < *out->min_priority) {
      errors->Add(Path(path, "max_priority"), "must not be below min_priority");
    }
    if (const Json* tags = obj.Get(kTags)) {
      std::string field = Path(path, "tags");
      if (!tags->is_array()) {
        errors->Add(field, "must be an array of objects");
      } else {
        if (tags->size() > Limits::kMaxTagConditions) {
          errors->Add(field,
                      model_internal::CountRule(Limits::kMaxTagConditions));
        }
        out->tags.resize(tags->size());
        for (size_t i = 0; i < tags->size(); ++i) {
          Tag((*tags)[i], IndexPath(field, i), &out->tags[i]);
        }
      }
    }
    if (const Json* present = obj.Get(kRecipientsPresent)) {
      out->recipients_present = model_internal::GetBool(
          *present, Path(path, "recipients_present"), errors);
    }
    if (const Json* any = obj.Get(kAny)) {
      Groups(*any, Path(path, "any"), depth, &out->any);
    }
    if (const Json* all = obj.Get(kAll)) {
      Groups(*all, Path(path, "all"), depth, &out->all);
    }
  }

  void GroupBy(const Json& v, absl::string_view path,
               std::vector<std::string>* out) {
    if (!v.is_array()) {
      errors->Add(std::string(path), model_internal::kMustBeStringArray);
      return;
    }
    if (v.size() > Limits::kMaxGroupBy) {
      errors->Add(std::string(path),
                  model_internal::CountRule(Limits::kMaxGroupBy));
    }
    for (size_t i = 0; i < v.size(); ++i) {
      std::string field = IndexPath(path, i);
      const std::string* s = model_internal::GetString(v[i], field, errors);
      if (s == nullptr) continue;
      absl::string_view g = *s;
      bool ok =
          g == "type" || g == "priority" || g == "recipient" ||
          (absl::ConsumePrefix(&g, "tags.") && model_internal::IsTagKey(g, 64));
      if (!ok) {
        errors->Add(field, kGroupByRule);
      } else if (std::find(out->begin(), out->end(), *s) != out->end()) {
        errors->Add(field, model_internal::kDuplicate);
      } else {
        out->push_back(*s);
      }
    }
  }

  void Route(const Json& v, RouteAction* out) {
    static constexpr absl::string_view kFields[] = {"integration_ids",
                                                    "channels"};
    if (Object(v, "actions.route") == nullptr) return;
    RequestObject obj(v, kFields, 0, "actions.route", mode, errors);
    if (const Json* ids = obj.Get(0)) {
      model_internal::ParseUuidList(*ids, "actions.route.integration_ids",
                                    Limits::kMaxIntegrationIds,
                                    &out->integration_ids, errors);
    }
    if (const Json* channels = obj.Get(1)) {
      model_internal::ParseChannelList(*channels, "actions.route.channels",
                                       &out->channels, errors);
    }
    bool named = (obj.Get(0) != nullptr && !obj.Get(0)->empty()) ||
                 (obj.Get(1) != nullptr && !obj.Get(1)->empty());
    if (!named) {
      errors->Add("actions.route",
                  "must name at least one integration or channel");
    }
  }

  void PriorityChange(const Json& v, PriorityAction* out) {
    static constexpr absl::string_view kFields[] = {"set", "raise"};
    if (Object(v, "actions.priority") == nullptr) return;
    RequestObject obj(v, kFields, 0, "actions.priority", mode, errors);
    const Json* set = obj.Get(0);
    const Json* raise = obj.Get(1);
    if ((set == nullptr) == (raise == nullptr)) {
      errors->Add("actions.priority", "must have exactly one of set or raise");
    }
    if (set != nullptr) {
      out->set =
          model_internal::ParsePriorityAt(*set, "actions.priority.set", errors);
    }
    if (std::optional<int64_t> n = Int(raise, "actions.priority.raise", 1, 4)) {
      out->raise = static_cast<int>(*n);
    }
  }

  void Throttle(const Json& v, ThrottleAction* out) {
    static constexpr absl::string_view kFields[] = {"limit", "window_s",
                                                    "group_by"};
    if (Object(v, "actions.throttle") == nullptr) return;
    RequestObject obj(v, kFields, 0, "actions.throttle", mode, errors);
    if (obj.Get(0) == nullptr) {
      errors->Add("actions.throttle.limit", model_internal::kRequired);
    } else if (std::optional<int64_t> limit =
                   Int(obj.Get(0), "actions.throttle.limit", 1,
                       Limits::kMaxThrottleLimit)) {
      out->limit = *limit;
    }
    if (obj.Get(1) == nullptr) {
      errors->Add("actions.throttle.window_s", model_internal::kRequired);
    } else if (std::optional<int64_t> window =
                   Int(obj.Get(1), "actions.throttle.window_s", 1,
                       Limits::kMaxThrottleWindowSeconds)) {
      out->window = absl::Seconds(*window);
    }
    if (const Json* group_by = obj.Get(2)) {
      GroupBy(*group_by, "actions.throttle.group_by", &out->group_by);
    }
  }

  void Digest(const Json& v, DigestAction* out) {
    static constexpr absl::string_view kFields[] = {"group_by", "group_wait_s",
                                                    "group_interval_s"};
    if (Object(v, "actions.digest") == nullptr) return;
    RequestObject obj(v, kFields, 0, "actions.digest", mode, errors);
    if (const Json* group_by = obj.Get(0)) {
      GroupBy(*group_by, "actions.digest.group_by", &out->group_by);
    }
    if (std::optional<int64_t> wait =
            Int(obj.Get(1), "actions.digest.group_wait_s", 0,
                Limits::kMaxDigestWaitSeconds)) {
      out->group_wait = absl::Seconds(*wait);
    }
    if (std::optional<int64_t> interval =
            Int(obj.Get(2), "actions.digest.group_interval_s", 1,
                Limits::kMaxDigestIntervalSeconds)) {
      out->group_interval = absl::Seconds(*interval);
    }
  }

  void Actions(const Json& v, RuleActions* out) {
    if (Object(v, "actions") == nullptr) return;
    RequestObject obj(v, kActionFields, 0, "actions", mode, errors);
    if (const Json* route = obj.Get(kRoute))
      Route(*route, &out->route.emplace());
    if (const Json* suppress = obj.Get(kSuppress)) {
      if (std::optional<bool> b =
              model_internal::GetBool(*suppress, "actions.suppress", errors)) {
        out->suppress = *b;
      }
    }
    if (const Json* p = obj.Get(kPriorityAction)) {
      PriorityChange(*p, &out->priority.emplace());
    }
    if (const Json* t = obj.Get(kThrottle))
      Throttle(*t, &out->throttle.emplace());
    if (const Json* d = obj.Get(kDigest)) Digest(*d, &out->digest.emplace());
    if (std::optional<int64_t> delay = Int(obj.Get(kDelay), "actions.delay_s",
                                           0, Limits::kMaxDelaySeconds)) {
      out->delay = absl::Seconds(*delay);
    }
    if (out->suppress &&
        (obj.Get(kRoute) != nullptr || obj.Get(kPriorityAction) != nullptr ||
         obj.Get(kThrottle) != nullptr || obj.Get(kDigest) != nullptr ||
         out->delay != absl::ZeroDuration())) {
      errors->Add("actions.suppress", "cannot be combined with other actions");
    }
  }
};

absl::StatusOr<Rule> ParseRule(const Json& j, ParseMode mode) {
  const absl::string_view what =
      mode == ParseMode::kRequest ? "invalid rule" : "invalid rule record";
  if (!j.is_object()) {
    return InvalidArgumentWithFields(
        what, {{"", std::string(model_internal::kNotAnObject)}});
  }
  FieldErrorList errors;
  Parser parser{mode, &errors};
  RequestObject obj(j, kRuleFields, kNumAssigned, "", mode, &errors);
  Rule r;
  if (const Json* v = obj.Get(kName)) {
    model_internal::ParseText(*v, "name", Limits::kMaxNameLength, false,
                              &r.name, &errors);
  } else {
    errors.Add("name", model_internal::kRequired);
  }
  if (const Json* v = obj.Get(kEnabled)) {
    if (std::optional<bool> b =
            model_internal::GetBool(*v, "enabled", &errors)) {
      r.enabled = *b;
    }
  }
  if (std::optional<int64_t> position =
          parser.Int(obj.Get(kPosition), "position", 0, Limits::kMaxPosition)) {
    r.position = static_cast<int>(*position);
  }
  if (const Json* v = obj.Get(kContinue)) {
    if (std::optional<bool> b =
            model_internal::GetBool(*v, "continue", &errors)) {
      r.continue_matching = *b;
    }
  }
  if (const Json* v = obj.Get(kMatch)) parser.Match(*v, "match", 1, &r.match);
  if (const Json* v = obj.Get(kActions)) parser.Actions(*v, &r.actions);
  if (mode == ParseMode::kRecord) {
    model_internal::ParseRequiredString(obj.Get(kId), "id", &r.id, &errors);
    model_internal::ParseRequiredString(obj.Get(kTenantId), "tenant_id",
                                        &r.tenant_id, &errors);
    model_internal::ParseOptionalTime(obj.Get(kCreatedAt), "created_at",
                                      &r.created_at, &errors);
    model_internal::ParseOptionalTime(obj.Get(kUpdatedAt), "updated_at",
                                      &r.updated_at, &errors);
  }
  ALERTHUB_RETURN_IF_ERROR(std::move(errors).ToStatus(what));
  return r;
}

Json MatchToJson(const RuleMatch& m) {
  Json j = Json::object();
  if (!m.type.empty()) j["type"] = m.type;
  if (m.min_priority.has_value()) {
    j["min_priority"] = std::string(PriorityName(*m.min_priority));
  }
  if (m.max_priority.has_value()) {
    j["max_priority"] = std::string(PriorityName(*m.max_priority));
  }
  if (!m.tags.empty()) {
    Json tags = Json::array();
    for (const TagCondition& t : m.tags) {
      tags.push_back({{"key", t.key},
                      {"op", std::string(TagOpName(t.op))},
                      {"value", t.value}});
    }
    j["tags"] = std::move(tags);
  }
  if (m.recipients_present.has_value()) {
    j["recipients_present"] = *m.recipients_present;
  }
  for (const auto& [key, groups] :
       {std::pair{"any", &m.any}, std::pair{"all", &m.all}}) {
    if (groups->empty()) continue;
    Json list = Json::array();
    for (const RuleMatch& g : *groups) list.push_back(MatchToJson(g));
    j[key] = std::move(list);
  }
  return j;
}

Json ActionsToJson(const RuleActions& a) {
  Json j = Json::object();
  if (a.route.has_value()) {
    Json route = Json::object();
    if (!a.route->integration_ids.empty()) {
      route["integration_ids"] = a.route->integration_ids;
    }
    if (!a.route->channels.empty()) {
      route["channels"] = model_internal::ChannelsToJson(a.route->channels);
    }
    j["route"] = std::move(route);
  }
  if (a.suppress) j["suppress"] = true;
  if (a.priority.has_value()) {
    if (a.priority->set.has_value()) {
      j["priority"] = {{"set", std::string(PriorityName(*a.priority->set))}};
    } else {
      j["priority"] = {{"raise", a.priority->raise}};
    }
  }
  if (a.throttle.has_value()) {
    Json t = {{"limit", a.throttle->limit},
              {"window_s", absl::ToInt64Seconds(a.throttle->window)}};
    if (!a.throttle->group_by.empty()) t["group_by"] = a.throttle->group_by;
    j["throttle"] = std::move(t);
  }
  if (a.digest.has_value()) {
    Json d = {
        {"group_wait_s", absl::ToInt64Seconds(a.digest->group_wait)},
        {"group_interval_s", absl::ToInt64Seconds(a.digest->group_interval)}};
    if (!a.digest->group_by.empty()) d["group_by"] = a.digest->group_by;
    j["digest"] = std::move(d);
  }
  if (a.delay != absl::ZeroDuration()) {
    j["delay_s"] = absl::ToInt64Seconds(a.delay);
  }
  return j;
}

}  // namespace

absl::string_view TagOpName(TagOp op) {
  int v = static_cast<int>(op);
  if (v < 1 || v > 4) return "unknown";
  return kTagOpNames[v - 1];
}

absl::StatusOr<TagOp> ParseTagOp(absl::string_view name) {
  for (int i = 0; i < 4; ++i) {
    if (name == kTagOpNames[i]) return static_cast<TagOp>(i + 1);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown tag operator \"", name, "\"; ", kTagOpRule));
}

absl::StatusOr<Rule> RuleFromRequestJson(const nlohmann::json& j) {
  return ParseRule(j, ParseMode::kRequest);
}

absl::StatusOr<Rule> RuleFromJson(const nlohmann::json& j) {
  return ParseRule(j, ParseMode::kRecord);
}

nlohmann::json RuleToJson(const Rule& r) {
  Json j = {{"id", r.id},
            {"tenant_id", r.tenant_id},
            {"name", r.name},
            {"enabled", r.enabled},
            {"position", r.position},
            {"continue", r.continue_matching},
            {"match", MatchToJson(r.match)},
            {"actions", ActionsToJson(r.actions)}};
  model_internal::PutTime(j, "created_at", r.created_at);
  model_internal::PutTime(j, "updated_at", r.updated_at);
  return j;
}

}  // namespace alerthub
