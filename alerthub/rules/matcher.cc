#include "alerthub/rules/matcher.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/const_init.h"
#include "absl/container/inlined_vector.h"
#include "absl/container/node_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/common/status.h"
#include "re2/re2.h"
#include "re2/set.h"

namespace alerthub {
namespace rules_internal {

// A type glob, split at its stars so matching needs no backtracking: with
// literal runs s0*s1*...*sk, a type matches when it starts with s0, ends with
// sk and contains s1..sk-1 in order in between (leftmost-first search is
// exact for globs whose only wildcard is `*`).
class TypeGlob {
 public:
  TypeGlob() = default;

  explicit TypeGlob(absl::string_view pattern) {
    if (!absl::StrContains(pattern, '*')) {
      match_all_ = pattern.empty();
      exact_ = std::string(pattern);
      return;
    }
    has_star_ = true;
    segments_ = absl::StrSplit(pattern, '*');
    match_all_ = true;
    for (const std::string& s : segments_) {
      min_length_ += s.size();
      if (!s.empty()) match_all_ = false;
    }
  }

  bool Matches(absl::string_view type) const {
    if (match_all_) return true;
    if (!has_star_) return type == exact_;
    if (type.size() < min_length_) return false;
    const std::string& first = segments_.front();
    const std::string& last = segments_.back();
    if (!absl::StartsWith(type, first) || !absl::EndsWith(type, last)) return false;
    // min_length_ >= first.size() + last.size(), so prefix and suffix do not
    // overlap and the middle is type[first.size(), end).
    const absl::string_view middle = type.substr(0, type.size() - last.size());
    size_t pos = first.size();
    for (size_t i = 1; i + 1 < segments_.size(); ++i) {
      const std::string& s = segments_[i];
      if (s.empty()) continue;
      const size_t found = middle.find(s, pos);
      if (found == absl::string_view::npos) return false;
      pos = found + s.size();
    }
    return true;
  }

 private:
  bool match_all_ = true;  // empty, or stars only
  bool has_star_ = false;
  std::string exact_;                  // !has_star_
  std::vector<std::string> segments_;  // has_star_: >= 2 literal runs
  size_t min_length_ = 0;
};

// A tag key as the conditions hold it: interned, so one pointer compare
// tells two conditions on the same key apart from others, with its hash.
struct TagKey {
  const std::string* name;
  uint64_t hash;
};

// Interns `key` for the life of the process (tag keys are few: tenants'
// vocabularies of `env`, `service`, `team`, ...).
TagKey InternTagKey(absl::string_view key) {
  ABSL_CONST_INIT static absl::Mutex mu(absl::kConstInit);
  static auto* const keys = new absl::node_hash_set<std::string>();
  absl::MutexLock lock(&mu);
  const std::string* name = &*keys->insert(std::string(key)).first;
  return {name, absl::Hash<absl::string_view>{}(key)};
}

// The RE2 patterns of a rule set's tag tests, grouped by tag key: each key
// with several distinct patterns gets one RE2::Set, so a notification runs
// one automaton per key instead of one RE2 per rule. A pattern id numbers
// every distinct (key, pattern) of the set's keys that have an RE2::Set.
struct PatternIndex {
  // Keys with fewer distinct patterns keep their tests' own RE2s.
  static constexpr size_t kMinPatternsPerSet = 2;
  static constexpr uint32_t kNoPattern = UINT32_MAX;
  static constexpr int64_t kMaxMemoryPerSet = int64_t{64} << 20;

  struct KeySet {
    TagKey key;
    std::unique_ptr<RE2::Set> set;  // compiled; its pattern i has id first_id + i
    uint32_t first_id = 0;
    uint32_t size = 0;  // patterns
  };
  std::vector<KeySet> sets;
  std::vector<uint32_t> set_of;  // pattern id -> index into sets
  // Per rule of the set (its index): the pattern id of each of its pattern
  // tests, by ordinal; kNoPattern where no set covers the test.
  std::vector<std::vector<uint32_t>> rule_pattern_ids;
};

// A notification prepared for matching against many rules: its tags as
// (hash, key, value) sorted by hash, so a condition finds its tag by
// integer compares, and a small memo of the keys looked up, so the many
// rules testing the same few keys (env, service) find them with one pointer
// compare. Single-threaded; lives on the stack; valid notifications (<= 64
// tags) never make it allocate.
class MatchContext {
 public:
  explicit MatchContext(const Notification& n) : notification_(n) {
    for (const auto& [key, value] : n.tags) {
      tags_.push_back({absl::Hash<absl::string_view>{}(key), key, value});
    }
    std::sort(tags_.begin(), tags_.end(),
              [](const TagView& a, const TagView& b) { return a.hash < b.hash; });
  }

  // Matching against a CompiledRuleSet whose PatternIndex answers pattern
  // tests from one RE2::Set run per tag key.
  MatchContext(const Notification& n, const PatternIndex* patterns);

  const Notification& notification() const { return notification_; }

  // The rule about to be matched: its pattern tests are looked up in the
  // pattern index under the ids `pattern_ids` holds, by test ordinal.
  void SetRulePatterns(const uint32_t* pattern_ids) { rule_pattern_ids_ = pattern_ids; }

  // Whether the current rule's pattern test `ordinal` matches `value` (the
  // value of its key), answered from the key's RE2::Set, which runs at most
  // once per key and notification; nullopt when no set covers the test (or
  // the set's DFA ran out of memory), and the test runs its own RE2.
  std::optional<bool> PatternMatched(uint32_t ordinal, absl::string_view value) const;

  // Runs set `set` of the pattern index on `value` (the value of its key)
  // unless it ran already, and returns the ids of the patterns that
  // matched, valid until the next call on this thread; null when the set's
  // DFA ran out of memory (its tests then run their own RE2s).
  const std::vector<uint32_t>* RunPatternSet(uint32_t set, absl::string_view value) const;

  // The value of tag `key`; "" when absent.
  absl::string_view Tag(const TagKey& key) const {
    Memo& memo = memo_[key.hash % kMemoSlots];
    if (memo.name == key.name) return memo.value;
    absl::string_view value;
    auto it = std::lower_bound(tags_.begin(), tags_.end(), key.hash,
                               [](const TagView& t, uint64_t h) { return t.hash < h; });
    for (; it != tags_.end() && it->hash == key.hash; ++it) {
      if (it->key == *key.name) {
        value = it->value;
        break;
      }
    }
    memo = {key.name, value};
    return value;
  }

 private:
  static constexpr size_t kMemoSlots = 16;

  struct TagView {
    uint64_t hash;
    absl::string_view key;
    absl::string_view value;
  };
  struct Memo {
    const std::string* name = nullptr;
    absl::string_view value;
  };

  const Notification& notification_;
  absl::InlinedVector<TagView, NotificationLimits::kMaxTags> tags_;
  mutable std::array<Memo, kMemoSlots> memo_;

  const PatternIndex* patterns_ = nullptr;
  const uint32_t* rule_pattern_ids_ = nullptr;
  // Per key set of patterns_: kUnknown until its RE2::Set ran, then kRan
  // (results in matched_) or kFailed.
  enum class SetState : uint8_t { kUnknown, kRan, kFailed };
  mutable absl::InlinedVector<SetState, 4> set_state_;
  // One bit per pattern id of patterns_: matched the value of its key.
  mutable absl::InlinedVector<uint64_t, 16> matched_;
};

// One tag condition. The common pattern shapes skip RE2: a pattern of plain
// characters is an equality, `.*` holds for every value without a newline
// (RE2's `.` does not match '\n').
class TagTest {
 public:
  enum class Kind { kEqual, kAnyLine, kRegex };

  TagTest(absl::string_view key, bool negate, Kind kind, std::string literal,
          std::unique_ptr<RE2> re)
      : key_(InternTagKey(key)),
        negate_(negate),
        kind_(kind),
        literal_(std::move(literal)),
        re_(std::move(re)) {}

  bool Holds(const MatchContext& context) const {
    const absl::string_view value = context.Tag(key_);
    bool matched = false;
    switch (kind_) {
      case Kind::kEqual:
        matched = value == literal_;
        break;
      case Kind::kAnyLine:
        matched = value.find('\n') == absl::string_view::npos;
        break;
      case Kind::kRegex:
        if (std::optional<bool> from_set = context.PatternMatched(ordinal_, value)) {
          matched = *from_set;
        } else {
          matched = re_->Match(re2::StringPiece(value.data(), value.size()), 0, value.size(),
                               RE2::ANCHOR_BOTH, nullptr, 0);
        }
        break;
    }
    return matched != negate_;
  }

  bool is_pattern() const { return kind_ == Kind::kRegex; }
  bool negated() const { return negate_; }
  const TagKey& key() const { return key_; }
  const RE2& re() const { return *re_; }
  // kRegex: this test's index among its rule's pattern tests.
  void set_ordinal(uint32_t ordinal) { ordinal_ = ordinal; }

 private:
  TagKey key_;
  bool negate_;
  Kind kind_;
  std::string literal_;      // kEqual
  std::unique_ptr<RE2> re_;  // kRegex
  uint32_t ordinal_ = 0;     // kRegex
};

struct MatchNode {
  int min_priority = static_cast<int>(Priority::kMin);
  int max_priority = static_cast<int>(Priority::kCritical);
  std::optional<bool> recipients_present;
  TypeGlob type;
  std::vector<TagTest> tags;  // equalities first
  std::vector<MatchNode> all;
  std::vector<MatchNode> any;

  // The conditions are independent and side-effect free, so they run
  // cheapest first: integers, the glob, tag equalities, patterns, groups.
  bool Matches(const MatchContext& context) const {
    const Notification& n = context.notification();
    const int p = static_cast<int>(n.priority);
    if (p < min_priority || p > max_priority) return false;
    if (recipients_present.has_value() && *recipients_present == n.recipients.empty()) {
      return false;
    }
    if (!type.Matches(n.type)) return false;
    for (const TagTest& t : tags) {
      if (!t.Holds(context)) return false;
    }
    for (const MatchNode& m : all) {
      if (!m.Matches(context)) return false;
    }
    if (any.empty()) return true;
    for (const MatchNode& m : any) {
      if (m.Matches(context)) return true;
    }
    return false;
  }

  // Numbers the pattern tests of this tree depth first and appends them to
  // `out` in that order.
  void NumberPatterns(std::vector<const TagTest*>* out) {
    for (TagTest& t : tags) {
      if (!t.is_pattern()) continue;
      t.set_ordinal(static_cast<uint32_t>(out->size()));
      out->push_back(&t);
    }
    for (MatchNode& m : all) m.NumberPatterns(out);
    for (MatchNode& m : any) m.NumberPatterns(out);
  }
};

MatchContext::MatchContext(const Notification& n, const PatternIndex* patterns)
    : MatchContext(n) {
  if (patterns == nullptr || patterns->sets.empty()) return;
  patterns_ = patterns;
  set_state_.assign(patterns->sets.size(), SetState::kUnknown);
  matched_.assign((patterns->set_of.size() + 63) / 64, 0);
}

const std::vector<uint32_t>* MatchContext::RunPatternSet(uint32_t set,
                                                        absl::string_view value) const {
  // Reused per thread: after the first runs, recording the matches does
  // not allocate (RE2::Set::Match itself allocates its match list).
  thread_local std::vector<int> hits;
  thread_local std::vector<uint32_t> ids;
  if (set_state_[set] == SetState::kFailed) return nullptr;
  const PatternIndex::KeySet& key_set = patterns_->sets[set];
  ids.clear();
  if (set_state_[set] == SetState::kRan) {
    for (uint32_t id = key_set.first_id; id < key_set.first_id + key_set.size; ++id) {
      if ((matched_[id / 64] >> (id % 64)) & 1) ids.push_back(id);
    }
    return &ids;
  }
  RE2::Set::ErrorInfo error;
  if (!key_set.set->Match(re2::StringPiece(value.data(), value.size()), &hits, &error) &&
      error.kind != RE2::Set::kNoError) {
    // The DFA ran out of memory (no match leaves kNoError).
    set_state_[set] = SetState::kFailed;
    return nullptr;
  }
  for (int hit : hits) {
    const uint32_t id = key_set.first_id + static_cast<uint32_t>(hit);
    matched_[id / 64] |= uint64_t{1} << (id % 64);
    ids.push_back(id);
  }
  set_state_[set] = SetState::kRan;
  return &ids;
}

std::optional<bool> MatchContext::PatternMatched(uint32_t ordinal, absl::string_view value) const {
  if (rule_pattern_ids_ == nullptr) return std::nullopt;
  const uint32_t id = rule_pattern_ids_[ordinal];
  if (id == PatternIndex::kNoPattern) return std::nullopt;
  const uint32_t set = patterns_->set_of[id];
  if (set_state_[set] == SetState::kUnknown) RunPatternSet(set, value);
  if (set_state_[set] == SetState::kFailed) return std::nullopt;
  return (matched_[id / 64] >> (id % 64)) & 1;
}

}  // namespace rules_internal

namespace {

using rules_internal::MatchContext;
using rules_internal::MatchNode;
using rules_internal::TagTest;
using rules_internal::TypeGlob;

// Characters that stand for themselves in RE2 syntax, so a pattern made only
// of them matches exactly the values equal to it.
bool IsPlainPatternChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == ':' ||
         c == '/' || c == '@' || c == '=' || c == ',' || c == ' ' || c == '%' || c == '#' ||
         c == '!' || c == '~' || c == '<' || c == '>' || c == '\'' || c == '"' || c == ';' ||
         c == '&';
}

bool IsPlainPattern(absl::string_view pattern) {
  return std::all_of(pattern.begin(), pattern.end(), IsPlainPatternChar);
}

std::string Path(absl::string_view base, absl::string_view field) {
  return base.empty() ? std::string(field) : absl::StrCat(base, ".", field);
}

void CompileMatch(const RuleMatch& m, const std::string& path, MatchNode* out,
                  std::vector<FieldError>* errors) {
  if (m.min_priority.has_value()) out->min_priority = static_cast<int>(*m.min_priority);
  if (m.max_priority.has_value()) out->max_priority = static_cast<int>(*m.max_priority);
  out->recipients_present = m.recipients_present;
  out->type = TypeGlob(m.type);

  std::vector<TagTest> equalities;
  std::vector<TagTest> patterns;
  for (size_t i = 0; i < m.tags.size(); ++i) {
    const TagCondition& c = m.tags[i];
    const bool negate = c.op == TagOp::kNotEqual || c.op == TagOp::kNotMatches;
    if (c.op == TagOp::kEqual || c.op == TagOp::kNotEqual) {
      equalities.emplace_back(c.key, negate, TagTest::Kind::kEqual, c.value, nullptr);
      continue;
    }
    if (c.op != TagOp::kMatches && c.op != TagOp::kNotMatches) {
      errors->push_back({Path(path, absl::StrCat("tags[", i, "].op")),
                         absl::StrCat("unknown operator ", static_cast<int>(c.op))});
      continue;
    }
    if (IsPlainPattern(c.value)) {
      equalities.emplace_back(c.key, negate, TagTest::Kind::kEqual, c.value, nullptr);
      continue;
    }
    if (c.value == ".*") {
      equalities.emplace_back(c.key, negate, TagTest::Kind::kAnyLine, "", nullptr);
      continue;
    }
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_unique<RE2>(c.value, options);
    if (!re->ok()) {
      errors->push_back({Path(path, absl::StrCat("tags[", i, "].value")),
                         absl::StrCat("must be a valid RE2 pattern: ", re->error())});
      continue;
    }
    patterns.emplace_back(c.key, negate, TagTest::Kind::kRegex, "", std::move(re));
  }
  out->tags = std::move(equalities);
  for (TagTest& t : patterns) out->tags.push_back(std::move(t));

  out->all.resize(m.all.size());
  for (size_t i = 0; i < m.all.size(); ++i) {
    CompileMatch(m.all[i], Path(path, absl::StrCat("all[", i, "]")), &out->all[i], errors);
  }
  out->any.resize(m.any.size());
  for (size_t i = 0; i < m.any.size(); ++i) {
    CompileMatch(m.any[i], Path(path, absl::StrCat("any[", i, "]")), &out->any[i], errors);
  }
}

void CompileGroupBy(const std::vector<std::string>& names, absl::string_view path,
                    std::vector<GroupByField>* out, std::vector<FieldError>* errors) {
  for (size_t i = 0; i < names.size(); ++i) {
    absl::StatusOr<GroupByField> f = ParseGroupByField(names[i]);
    if (f.ok()) {
      out->push_back(*std::move(f));
    } else {
      errors->push_back({absl::StrCat(path, "[", i, "]"), std::string(f.status().message())});
    }
  }
}

// The RE2::Sets of `rules`' pattern tests (see PatternIndex); null when no
// tag key has enough distinct patterns to need one.
std::shared_ptr<const rules_internal::PatternIndex> BuildPatternIndex(
    const std::vector<std::shared_ptr<const CompiledRule>>& rules) {
  using rules_internal::PatternIndex;
  // Distinct patterns per key, in first-seen order.
  struct KeyPatterns {
    std::vector<std::string> patterns;
    absl::flat_hash_map<std::string, uint32_t> index;
  };
  absl::flat_hash_map<const std::string*, KeyPatterns> by_key;
  for (const std::shared_ptr<const CompiledRule>& r : rules) {
    for (const TagTest* t : r->pattern_tests()) {
      KeyPatterns& k = by_key[t->key().name];
      auto [it, added] = k.index.try_emplace(t->re().pattern(), k.patterns.size());
      if (added) k.patterns.push_back(t->re().pattern());
    }
  }

  auto index = std::make_shared<PatternIndex>();
  // Pattern id of the first pattern of each key that gets a set.
  absl::flat_hash_map<const std::string*, uint32_t> first_id;
  for (auto& [key, k] : by_key) {
    if (k.patterns.size() < PatternIndex::kMinPatternsPerSet) continue;
    RE2::Options options;
    options.set_log_errors(false);
    // The program and the lazily built DFA share this budget; many patterns
    // need more than a single RE2's default (8 MiB), which is only reached
    // by large rule sets matching varied values.
    options.set_max_mem(PatternIndex::kMaxMemoryPerSet);
    auto set = std::make_unique<RE2::Set>(options, RE2::ANCHOR_BOTH);
    bool ok = true;
    for (const std::string& p : k.patterns) ok = ok && set->Add(p, nullptr) >= 0;
    // A set too large for RE2's memory budget leaves the key's tests to
    // their own RE2s.
    if (!ok || !set->Compile()) continue;
    const uint32_t first = static_cast<uint32_t>(index->set_of.size());
    first_id.emplace(key, first);
    index->set_of.resize(first + k.patterns.size(), static_cast<uint32_t>(index->sets.size()));
    index->sets.push_back({rules_internal::InternTagKey(*key), std::move(set), first,
                           static_cast<uint32_t>(k.patterns.size())});
  }
  if (index->sets.empty()) return nullptr;

  index->rule_pattern_ids.resize(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    for (const TagTest* t : rules[i]->pattern_tests()) {
      auto first = first_id.find(t->key().name);
      index->rule_pattern_ids[i].push_back(
          first == first_id.end()
              ? PatternIndex::kNoPattern
              : first->second + by_key[t->key().name].index.at(t->re().pattern()));
    }
  }
  return index;
}

}  // namespace

bool TypeGlobMatches(absl::string_view glob, absl::string_view type) {
  return rules_internal::TypeGlob(glob).Matches(type);
}

absl::StatusOr<GroupByField> ParseGroupByField(absl::string_view name) {
  if (name == "type") return GroupByField{.kind = GroupByField::Kind::kType, .tag_key = ""};
  if (name == "priority") {
    return GroupByField{.kind = GroupByField::Kind::kPriority, .tag_key = ""};
  }
  if (name == "recipient") {
    return GroupByField{.kind = GroupByField::Kind::kRecipient, .tag_key = ""};
  }
  absl::string_view key = name;
  if (absl::ConsumePrefix(&key, "tags.") && !key.empty()) {
    return GroupByField{.kind = GroupByField::Kind::kTag, .tag_key = std::string(key)};
  }
  return absl::InvalidArgumentError(
      absl::StrCat("must be \"type\", \"priority\", \"recipient\" or \"tags.<key>\", not \"",
                   absl::CEscape(name), "\""));
}

std::string GroupingKey(absl::Span<const GroupByField> fields, const Notification& n) {
  std::string key;
  for (const GroupByField& f : fields) {
    if (!key.empty()) key.push_back(',');
    switch (f.kind) {
      case GroupByField::Kind::kType:
        absl::StrAppend(&key, "type=\"", absl::CEscape(n.type), "\"");
        break;
      case GroupByField::Kind::kPriority:
        absl::StrAppend(&key, "priority=\"", PriorityName(n.priority), "\"");
        break;
      case GroupByField::Kind::kRecipient: {
        std::vector<absl::string_view> ids(n.recipients.begin(), n.recipients.end());
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        key.append("recipient=[");
        for (size_t i = 0; i < ids.size(); ++i) {
          absl::StrAppend(&key, i == 0 ? "\"" : ",\"", absl::CEscape(ids[i]), "\"");
        }
        key.push_back(']');
        break;
      }
      case GroupByField::Kind::kTag: {
        auto it = n.tags.find(f.tag_key);
        absl::StrAppend(&key, "tags.", f.tag_key, "=\"",
                        it == n.tags.end() ? "" : absl::CEscape(it->second), "\"");
        break;
      }
    }
  }
  return key;
}

// --- CompiledRule ---------------------------------------------------------------------

CompiledRule::~CompiledRule() = default;

absl::StatusOr<std::unique_ptr<CompiledRule>> CompiledRule::Compile(Rule rule) {
  std::unique_ptr<CompiledRule> c(new CompiledRule());
  std::vector<FieldError> errors;
  auto root = std::make_unique<MatchNode>();
  CompileMatch(rule.match, "match", root.get(), &errors);
  if (rule.actions.throttle.has_value()) {
    CompileGroupBy(rule.actions.throttle->group_by, "actions.throttle.group_by",
                   &c->throttle_group_by_, &errors);
  }
  if (rule.actions.digest.has_value()) {
    CompileGroupBy(rule.actions.digest->group_by, "actions.digest.group_by", &c->digest_group_by_,
                   &errors);
  }
  if (!errors.empty()) {
    return InvalidArgumentWithFields(
        absl::StrCat("rule ", rule.id, " (\"", absl::CEscape(rule.name), "\") does not compile"),
        std::move(errors));
  }
  const size_t star = rule.match.type.find('*');
  if (star == std::string::npos) {
    c->exact_type_ = rule.match.type;
    c->type_prefix_ = rule.match.type;
  } else {
    c->type_prefix_ = rule.match.type.substr(0, star);
  }
  for (const TagCondition& t : rule.match.tags) {
    if (!t.value.empty() &&
        (t.op == TagOp::kEqual || (t.op == TagOp::kMatches && IsPlainPattern(t.value)))) {
      c->index_tags_.emplace_back(t.key, t.value);
    }
  }
  root->NumberPatterns(&c->patterns_);
  // The root's tests are numbered first: its first positive pattern test
  // is a condition every match meets.
  int ordinal = 0;
  for (const TagTest& t : root->tags) {
    if (!t.is_pattern()) continue;
    if (!t.negated()) {
      c->index_pattern_ = ordinal;
      break;
    }
    ++ordinal;
  }
  c->root_ = std::move(root);
  c->rule_ = std::move(rule);
  return c;
}

bool CompiledRule::Matches(const Notification& n) const { return root_->Matches(MatchContext(n)); }

bool CompiledRule::Matches(const MatchContext& context) const { return root_->Matches(context); }

// --- CompiledRuleSet ------------------------------------------------------------------

absl::StatusOr<CompiledRuleSet> CompiledRuleSet::Compile(std::vector<Rule> rules,
                                                         const RuleSetCompileOptions& options) {
  rules.erase(std::remove_if(rules.begin(), rules.end(), [](const Rule& r) { return !r.enabled; }),
              rules.end());
  std::stable_sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) {
    return std::tie(a.position, a.id) < std::tie(b.position, b.id);
  });

  // The previous version's compiled rules, by id.
  absl::flat_hash_map<absl::string_view, const std::shared_ptr<const CompiledRule>*> previous;
  if (options.previous != nullptr) {
    for (const std::shared_ptr<const CompiledRule>& r : options.previous->rules_) {
      previous.emplace(r->rule().id, &r);
    }
  }

  CompiledRuleSet set;
  set.rules_.reserve(rules.size());
  for (Rule& rule : rules) {
    if (rule.updated_at != absl::InfinitePast()) {
      auto it = previous.find(rule.id);
      if (it != previous.end() && (*it->second)->rule().updated_at == rule.updated_at) {
        set.rules_.push_back(*it->second);
        ++set.reused_;
        continue;
      }
    }
    absl::StatusOr<std::unique_ptr<CompiledRule>> c = CompiledRule::Compile(std::move(rule));
    if (!c.ok()) {
      if (!options.skip_invalid) return c.status();
      set.skipped_.push_back(c.status());
      continue;
    }
    set.rules_.push_back(*std::move(c));
  }

  // How many rules could be indexed by each (key, value): each rule is
  // indexed by its rarest, so a value most rules share (env="prod") does not
  // make one long list.
  absl::flat_hash_map<std::pair<absl::string_view, absl::string_view>, int> tag_counts;
  for (const std::shared_ptr<const CompiledRule>& r : set.rules_) {
    if (!r->exact_type().empty()) continue;
    for (const auto& [key, value] : r->index_tags()) ++tag_counts[{key, value}];
  }
  set.patterns_ = BuildPatternIndex(set.rules_);
  if (set.patterns_ != nullptr) set.by_pattern_.resize(set.patterns_->set_of.size());
  for (uint32_t i = 0; i < set.rules_.size(); ++i) {
    const CompiledRule& r = *set.rules_[i];
    ScanEntry e;
    e.rule = i;
    e.prefix_length = static_cast<uint32_t>(std::min<size_t>(r.type_prefix().size(), 8));
    std::memcpy(&e.prefix_bits, r.type_prefix().data(), e.prefix_length);
    std::memset(&e.prefix_mask, 0xff, e.prefix_length);
    const RuleMatch& m = r.rule().match;
    if (m.min_priority.has_value()) e.min_priority = static_cast<int>(*m.min_priority);
    if (m.max_priority.has_value()) e.max_priority = static_cast<int>(*m.max_priority);

    if (!r.exact_type().empty()) {
      set.by_exact_type_[std::string(r.exact_type())].push_back(e);
      continue;
    }
    const std::pair<std::string, std::string>* rarest = nullptr;
    int rarest_count = 0;
    for (const auto& kv : r.index_tags()) {
      const int count = tag_counts[{kv.first, kv.second}];
      if (rarest == nullptr || count < rarest_count) {
        rarest = &kv;
        rarest_count = count;
      }
    }
    if (rarest != nullptr) {
      set.by_tag_[rarest->first][rarest->second].push_back(e);
      continue;
    }
    if (set.patterns_ != nullptr && r.index_pattern() >= 0) {
      const uint32_t id = set.patterns_->rule_pattern_ids[i][r.index_pattern()];
      if (id != rules_internal::PatternIndex::kNoPattern) {
        set.by_pattern_[id].push_back(e);
        continue;
      }
    }
    set.scan_.push_back(e);
  }
  if (set.patterns_ != nullptr) {
    for (uint32_t s = 0; s < set.patterns_->sets.size(); ++s) {
      const rules_internal::PatternIndex::KeySet& key_set = set.patterns_->sets[s];
      for (uint32_t id = key_set.first_id; id < key_set.first_id + key_set.size; ++id) {
        if (!set.by_pattern_[id].empty()) {
          set.indexed_sets_.push_back(s);
          break;
        }
      }
    }
  }
  return set;
}

void CompiledRuleSet::ForEachMatch(const Notification& n,
                                   absl::FunctionRef<bool(const CompiledRule&)> fn) const {
  // The lists that can hold rules matching `n`: the scan, its type's, and
  // one per tag of `n` whose key and value index rules.
  struct Cursor {
    const ScanEntry* next;
    const ScanEntry* end;
  };
  absl::InlinedVector<Cursor, 8> cursors;
  auto add = [&](const std::vector<ScanEntry>& list) {
    if (!list.empty()) cursors.push_back({list.data(), list.data() + list.size()});
  };
  add(scan_);
  if (auto it = by_exact_type_.find(absl::string_view(n.type)); it != by_exact_type_.end()) {
    add(it->second);
  }
  if (!by_tag_.empty()) {
    for (const auto& [key, value] : n.tags) {
      auto k = by_tag_.find(absl::string_view(key));
      if (k == by_tag_.end()) continue;
      auto v = k->second.find(absl::string_view(value));
      if (v != k->second.end()) add(v->second);
    }
  }
  MatchContext context(n, patterns_.get());
  if (patterns_ != nullptr) {
    // Rules indexed by a pattern are candidates only when it matched; one
    // RE2::Set run per key tells which did (all of them, when it failed).
    for (uint32_t s : indexed_sets_) {
      const rules_internal::PatternIndex::KeySet& key_set = patterns_->sets[s];
      const std::vector<uint32_t>* hits = context.RunPatternSet(s, context.Tag(key_set.key));
      if (hits != nullptr) {
        for (uint32_t id : *hits) add(by_pattern_[id]);
      } else {
        for (uint32_t id = key_set.first_id; id < key_set.first_id + key_set.size; ++id) {
          add(by_pattern_[id]);
        }
      }
    }
  }

  uint64_t type_bits = 0;
  std::memcpy(&type_bits, n.type.data(), std::min<size_t>(n.type.size(), 8));
  const int priority = static_cast<int>(n.priority);

  // Every list ascends and no rule is in two: taking the lowest head each
  // time visits the candidates in rule order.
  while (true) {
    Cursor* lowest = nullptr;
    for (Cursor& c : cursors) {
      if (c.next != c.end && (lowest == nullptr || c.next->rule < lowest->next->rule)) {
        lowest = &c;
      }
    }
    if (lowest == nullptr) return;
    const ScanEntry& e = *lowest->next++;
    if ((type_bits & e.prefix_mask) != e.prefix_bits || n.type.size() < e.prefix_length ||
        priority < e.min_priority || priority > e.max_priority) {
      continue;
    }
    const CompiledRule& r = *rules_[e.rule];
    if (patterns_ != nullptr) context.SetRulePatterns(patterns_->rule_pattern_ids[e.rule].data());
    if (r.Matches(context) && !fn(r)) return;
  }
}

}  // namespace alerthub
