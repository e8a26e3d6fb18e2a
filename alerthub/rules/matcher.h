// Rule matching: a tenant's rules compiled once into a form that answers
// "which rules match this notification?" without allocating.
//
//   absl::StatusOr<CompiledRuleSet> set = CompiledRuleSet::Compile(rules);
//   if (!set.ok()) { /* kInvalidArgument naming the rule and the field */ }
//   set->ForEachMatch(notification, [](const CompiledRule& r) {
//     ...;                                  // r.rule().actions
//     return r.rule().continue_matching;    // false stops the walk
//   });
//
// Semantics (issue 5, ARCHITECTURE §4 "Rule"):
//   * Only enabled rules take part, in ascending `position`, ties broken by
//     ascending `id`, so the order is total and the same in every process.
//   * `match.type` is a glob over the whole type: `*` matches any run of
//     characters (including none and including dots); every other character
//     matches itself. An empty glob matches every type.
//   * `min_priority` / `max_priority` are inclusive bounds.
//   * Tag conditions see a missing tag as the empty string (as Alertmanager
//     does): `env!="prod"` and `env!~"prod|staging"` hold when `env` is
//     absent, `env=""` and `env=~".*"` hold too, `env=~".+"` does not.
//   * `=~` and `!~` are RE2 patterns matched against the whole value (fully
//     anchored: `prod` does not match "production"; write `prod.*`).
//   * `recipients_present: true` needs at least one recipient, `false` none.
//   * Every condition of one match object must hold; a non-empty `any` needs
//     at least one of its members to hold, `all` needs each to hold. An empty
//     match object matches every notification.
//   * Matching sees the notification as submitted; what earlier rules' actions
//     do (a priority raise, say) never changes which later rules match.
//
// Each RE2 is compiled once per rule version (and the per-key RE2::Sets once
// per rule set version): CompiledRuleSet::Compile() takes
// the previous set and reuses the compiled form of every rule whose id and
// updated_at are unchanged.
//
// Tag keys named by conditions are interned for the life of the process
// (a few bytes per distinct key; tenants' key vocabularies are small), so a
// notification's tags are looked up once per key and evaluation.
//
// Thread safety: CompiledRule and CompiledRuleSet are immutable after
// Compile(); any number of threads may match against one concurrently.
#ifndef ALERTHUB_RULES_MATCHER_H_
#define ALERTHUB_RULES_MATCHER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/rule.h"

namespace alerthub {

namespace rules_internal {
struct MatchNode;     // the compiled RuleMatch tree, defined in matcher.cc
class MatchContext;   // one notification prepared for matching, ditto
class TagTest;        // one tag condition, ditto
struct PatternIndex;  // a rule set's RE2::Sets, one per tag key, ditto
}  // namespace rules_internal

// One `group_by` entry of a throttle or digest action.
struct GroupByField {
  enum class Kind {
    kType,       // "type"
    kPriority,   // "priority": the submitted priority's name
    kRecipient,  // "recipient": the sorted, de-duplicated recipient ids
    kTag,        // "tags.<key>": the tag's value, "" when absent
  };
  Kind kind = Kind::kType;
  std::string tag_key;  // for kTag only

  bool operator==(const GroupByField& other) const = default;
};

// Whether `type` matches `glob` as a rule's `match.type` does: `*` matches
// any run of characters, everything else itself; "" matches every type.
bool TypeGlobMatches(absl::string_view glob, absl::string_view type);

// Parses one group_by entry ("type", "priority", "recipient", "tags.<key>").
// kInvalidArgument naming the accepted forms otherwise.
absl::StatusOr<GroupByField> ParseGroupByField(absl::string_view name);

// The grouping key of `n` under `fields`: one `name="value"` pair per field,
// in the order given, joined by ","; values are C-escaped, so distinct
// groups always have distinct keys. Empty `fields` give "" (one group).
//   type="deploy.finished",tags.env="prod"
std::string GroupingKey(absl::Span<const GroupByField> fields, const Notification& n);

// One enabled rule, compiled. Immutable; shared between the rule sets of
// successive versions of a tenant's rules.
class CompiledRule {
 public:
  // Compiles `rule` (its enabled flag is not looked at). kInvalidArgument
  // when a pattern does not compile or a group_by entry is unknown; the
  // message names the rule id and the field path ("match.any[1].tags[0].value",
  // "actions.throttle.group_by[2]") and the FieldErrors (common/status.h)
  // carry the same paths.
  static absl::StatusOr<std::unique_ptr<CompiledRule>> Compile(Rule rule);

  ~CompiledRule();
  CompiledRule(const CompiledRule&) = delete;
  CompiledRule& operator=(const CompiledRule&) = delete;

  // True when `n` satisfies the rule's match. Allocation-free.
  bool Matches(const Notification& n) const;

  const Rule& rule() const { return rule_; }
  // The parsed group_by of actions.throttle / actions.digest (empty when the
  // action is absent or groups everything together).
  absl::Span<const GroupByField> throttle_group_by() const { return throttle_group_by_; }
  absl::Span<const GroupByField> digest_group_by() const { return digest_group_by_; }

  // The top-level type glob when it contains no `*` (the set indexes such
  // rules by type); empty otherwise.
  absl::string_view exact_type() const { return exact_type_; }
  // The top-level type glob's literal text before its first `*` ("" for no
  // glob or a leading `*`).
  absl::string_view type_prefix() const { return type_prefix_; }
  // The top-level tag conditions that only hold when the tag is present with
  // exactly this non-empty value (`key="value"`, or `=~` with a pattern of
  // plain characters), as (key, value). A set indexes a rule without an
  // exact type by the one that the fewest of its rules share.
  const std::vector<std::pair<std::string, std::string>>& index_tags() const { return index_tags_; }

  // The `=~`/`!~` tests that run an RE2 (patterns that are not plain text
  // nor `.*`), depth first through the match tree.
  const std::vector<const rules_internal::TagTest*>& pattern_tests() const {
    return patterns_;
  }
  // The index in pattern_tests() of the first top-level `=~` test (one
  // every match passes), or -1. A set indexes a rule without an exact type
  // or index tag by it.
  int index_pattern() const { return index_pattern_; }

 private:
  friend class CompiledRuleSet;

  CompiledRule() = default;
  // Matches() for a notification already prepared (once per evaluation).
  bool Matches(const rules_internal::MatchContext& context) const;

  Rule rule_;
  std::unique_ptr<const rules_internal::MatchNode> root_;
  std::vector<GroupByField> throttle_group_by_;
  std::vector<GroupByField> digest_group_by_;
  std::string exact_type_;
  std::string type_prefix_;
  std::vector<std::pair<std::string, std::string>> index_tags_;
  std::vector<const rules_internal::TagTest*> patterns_;  // point into root_
  int index_pattern_ = -1;
};

class CompiledRuleSet;

struct RuleSetCompileOptions {
  // The set compiled from an earlier version of the same tenant's rules, or
  // null. A rule whose id and updated_at equal those of a rule in `previous`
  // (and whose updated_at is set) reuses that compiled rule instead of
  // compiling its patterns again. Rules are immutable per version: whoever
  // changes a rule must move its updated_at. Only read during Compile().
  const CompiledRuleSet* previous = nullptr;
  // False: the first rule that does not compile fails the whole set. True:
  // such rules are left out and their errors kept in skipped(), so one
  // corrupt stored rule cannot stop a tenant's routing.
  bool skip_invalid = false;
};

// A tenant's enabled rules in evaluation order. Cheap to move; immutable.
class CompiledRuleSet {
 public:
  // The empty set: matches nothing.
  CompiledRuleSet() = default;

  // Keeps the enabled rules of `rules`, orders them by (position, id) and
  // compiles them. Errors as CompiledRule::Compile() unless
  // options.skip_invalid.
  static absl::StatusOr<CompiledRuleSet> Compile(std::vector<Rule> rules,
                                                 const RuleSetCompileOptions& options = {});

  CompiledRuleSet(CompiledRuleSet&&) = default;
  CompiledRuleSet& operator=(CompiledRuleSet&&) = default;
  CompiledRuleSet(const CompiledRuleSet&) = delete;
  CompiledRuleSet& operator=(const CompiledRuleSet&) = delete;

  // Calls `fn` with every rule matching `n`, in evaluation order, until `fn`
  // returns false.
  //
  // Cost: a rule whose type glob has no `*` is found through a hash index
  // on the type; else one with a top-level `key="value"` condition through a
  // hash index on its rarest such tag; else one with a top-level `=~`
  // condition through that pattern, when its key's RE2::Set (below) covers
  // it; the others are scanned. Every candidate is first screened by a
  // compact entry (the glob's first literal bytes and the priority bounds,
  // compared as integers), then fully matched. So the cost grows with the
  // number of rules that pass an index and the screen — for those, with
  // their tag conditions and the RE2 patterns they have to run (see
  // rules_benchmark.cc).
  //
  // The patterns of each tag key that rules test with several distinct
  // patterns are compiled into one RE2::Set at Compile(); it runs at most
  // once per key and notification, and tells both which pattern-indexed
  // rules are candidates and every pattern test's outcome. Allocation-free
  // apart from what `fn` does, except that such a run allocates its match
  // list (inside RE2): rule sets whose every key has at most one distinct
  // pattern never allocate.
  void ForEachMatch(const Notification& n, absl::FunctionRef<bool(const CompiledRule&)> fn) const;

  // The compiled rules in evaluation order.
  size_t size() const { return rules_.size(); }
  bool empty() const { return rules_.empty(); }
  const CompiledRule& rule(size_t i) const { return *rules_[i]; }

  // With skip_invalid, one kInvalidArgument per rule left out, in input
  // order; empty otherwise.
  const std::vector<absl::Status>& skipped() const { return skipped_; }

  // How many rules Compile() took from `previous` instead of compiling them.
  size_t reused_count() const { return reused_; }

 private:
  // A rule, screened before its full match: the notification's type must
  // start with the glob's first `prefix_length` (<= 8) literal bytes,
  // compared as one masked 64-bit word, and its priority must be within the
  // top-level bounds.
  struct ScanEntry {
    uint64_t prefix_bits = 0;  // the bytes in memory order, zero-padded
    uint64_t prefix_mask = 0;  // 0xff per byte that counts
    uint32_t prefix_length = 0;
    uint32_t rule = 0;  // index into rules_
    int min_priority = 1;
    int max_priority = 5;
  };

  std::vector<std::shared_ptr<const CompiledRule>> rules_;
  // Every rule is in exactly one of these lists, each ascending by rule:
  // the rules whose top-level type is exact, by that type; the others with
  // an index tag, by key and value; the others with an index pattern that
  // an RE2::Set covers, by pattern id; the rest, in scan_.
  absl::flat_hash_map<std::string, std::vector<ScanEntry>> by_exact_type_;
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, std::vector<ScanEntry>>>
      by_tag_;
  std::vector<std::vector<ScanEntry>> by_pattern_;  // by pattern id of patterns_
  std::vector<uint32_t> indexed_sets_;  // the sets of patterns_ with rules in by_pattern_
  std::vector<ScanEntry> scan_;
  // Null when no tag key has several distinct patterns.
  std::shared_ptr<const rules_internal::PatternIndex> patterns_;
  std::vector<absl::Status> skipped_;
  size_t reused_ = 0;
};

}  // namespace alerthub

#endif  // ALERTHUB_RULES_MATCHER_H_
