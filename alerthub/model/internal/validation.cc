#include "alerthub/model/internal/validation.h"

#include <limits>
#include <utility>

#include "absl/base/macros.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/time.h"
#include "alerthub/common/uuid.h"

namespace alerthub::model_internal {
namespace {

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

template <typename Pred>
bool AllOf(absl::string_view s, size_t max_len, Pred pred) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}

// Length of the UTF-8 sequence starting at s[i], 0 when it is malformed
// (overlong forms, surrogates and code points above U+10FFFF included).
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c == 0xE0) return cont(i + 1, 0xA0, 0xBF) && cont(i + 2) ? 3 : 0;
  if (c == 0xED) return cont(i + 1, 0x80, 0x9F) && cont(i + 2) ? 3 : 0;
  if (c >= 0xE1 && c <= 0xEF) return cont(i + 1) && cont(i + 2) ? 3 : 0;
  if (c == 0xF0) {
    return cont(i + 1, 0x90, 0xBF) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  if (c >= 0xF1 && c <= 0xF3) {
    return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  if (c == 0xF4) {
    return cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

// Field paths echo member names and messages may echo values; the status
// payload is JSON, whose serializer throws on invalid UTF-8, so any invalid
// byte becomes '?'.
std::string ToValidUtf8(std::string s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      s[i] = '?';
      n = 1;
    }
    i += n;
  }
  return s;
}

}  // namespace

void FieldErrorList::Add(std::string field, absl::string_view message) {
  if (errors_.size() >= kMaxErrors) {
    ++dropped_;
    return;
  }
  errors_.push_back(
      {ToValidUtf8(std::move(field)), ToValidUtf8(std::string(message))});
}

absl::Status FieldErrorList::ToStatus(absl::string_view message) && {
  if (errors_.empty()) return absl::OkStatus();
  if (dropped_ > 0) {
    errors_.push_back(
        {"", absl::StrCat("and ", dropped_, " more errors not listed")});
  }
  return InvalidArgumentWithFields(message, std::move(errors_));
}

std::string Path(absl::string_view prefix, absl::string_view name) {
  if (prefix.empty()) return std::string(name);
  return absl::StrCat(prefix, ".", name);
}

std::string IndexPath(absl::string_view base, size_t index) {
  return absl::StrCat(base, "[", index, "]");
}

RequestObject::RequestObject(const Json& object,
                             absl::Span<const absl::string_view> fields,
                             size_t num_assigned, absl::string_view prefix,
                             ParseMode mode, FieldErrorList* errors) {
  ABSL_ASSERT(fields.size() <= kMaxFields && num_assigned <= fields.size());
  const size_t first_assigned = fields.size() - num_assigned;
  for (auto it = object.begin(); it != object.end(); ++it) {
    absl::string_view name(it.key());
    size_t i = 0;
    while (i < fields.size() && fields[i] != name) ++i;
    if (mode == ParseMode::kRecord) {
      if (i < fields.size() && !it.value().is_null()) values_[i] = &it.value();
    } else if (i < first_assigned) {
      if (!it.value().is_null()) values_[i] = &it.value();
    } else if (i < fields.size()) {
      if (!it.value().is_null()) {
        errors->Add(Path(prefix, name), kServerAssigned);
      }
    } else {
      errors->Add(Path(prefix, name), kUnknownField);
    }
  }
}

const std::string* GetString(const Json& v, absl::string_view path,
                             FieldErrorList* errors) {
  if (!v.is_string()) {
    errors->Add(std::string(path), kMustBeString);
    return nullptr;
  }
  return &v.get_ref<const std::string&>();
}

std::optional<bool> GetBool(const Json& v, absl::string_view path,
                            FieldErrorList* errors) {
  if (!v.is_boolean()) {
    errors->Add(std::string(path), kMustBeBool);
    return std::nullopt;
  }
  return v.get<bool>();
}

std::optional<int64_t> GetInt(const Json& v, absl::string_view path,
                              int64_t min, int64_t max,
                              FieldErrorList* errors) {
  bool in_range = false;
  int64_t value = 0;
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    in_range =
        u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) &&
        static_cast<int64_t>(u) >= min && static_cast<int64_t>(u) <= max;
    value = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    value = v.get<int64_t>();
    in_range = value >= min && value <= max;
  } else {
    errors->Add(std::string(path), kMustBeInteger);
    return std::nullopt;
  }
  if (!in_range) {
    errors->Add(std::string(path),
                absl::StrCat("must be between ", min, " and ", max));
    return std::nullopt;
  }
  return value;
}

const Json* GetStringArray(const Json& v, absl::string_view path,
                           FieldErrorList* errors) {
  bool ok = v.is_array();
  if (ok) {
    for (const Json& e : v) {
      if (!e.is_string()) {
        ok = false;
        break;
      }
    }
  }
  if (!ok) {
    errors->Add(std::string(path), kMustBeStringArray);
    return nullptr;
  }
  return &v;
}

bool IsSlug(absl::string_view s, size_t max_len) {
  return AllOf(s, max_len, [](char c) {
    return IsLowerAlnum(c) || c == '.' || c == '_' || c == '-';
  });
}

bool IsTagKey(absl::string_view s, size_t max_len) {
  return AllOf(s, max_len, [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
           c == '_' || c == '-';
  });
}

bool IsTypeGlob(absl::string_view s, size_t max_len) {
  return AllOf(s, max_len, [](char c) {
    return IsLowerAlnum(c) || c == '.' || c == '_' || c == '-' || c == '*';
  });
}

std::optional<size_t> Utf8Length(absl::string_view s) {
  size_t count = 0;
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
    } else {
      size_t n = Utf8SequenceLength(s, i);
      if (n == 0) return std::nullopt;
      i += n;
    }
    ++count;
  }
  return count;
}

bool IsPrintable(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return false;
      ++i;
      continue;
    }
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    // C1 controls U+0080-U+009F are C2 80 - C2 9F.
    if (c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) return false;
    i += n;
  }
  return true;
}

std::string TextError(absl::string_view s, size_t max_chars, bool allow_empty) {
  if (s.empty()) {
    return allow_empty ? std::string() : std::string(kMustNotBeEmpty);
  }
  std::optional<size_t> length = Utf8Length(s);
  if (!length.has_value()) return std::string(kInvalidUtf8);
  if (*length > max_chars) {
    return absl::StrCat("must be at most ", max_chars, " characters");
  }
  return std::string();
}

bool IsEmailAddress(absl::string_view s) {
  if (s.size() < 3 || s.size() > 254 || !IsPrintable(s)) return false;
  size_t at = s.find('@');
  if (at == 0 || at == absl::string_view::npos || at + 1 == s.size()) {
    return false;
  }
  if (s.find('@', at + 1) != absl::string_view::npos) return false;
  return s.find(' ') == absl::string_view::npos;
}

bool IsUrlWithScheme(absl::string_view s,
                     std::initializer_list<absl::string_view> schemes) {
  if (s.size() > 2048) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return false;
  }
  size_t sep = s.find("://");
  if (sep == absl::string_view::npos) return false;
  absl::string_view scheme = s.substr(0, sep);
  bool scheme_ok = false;
  for (absl::string_view allowed : schemes) {
    if (absl::EqualsIgnoreCase(scheme, allowed)) scheme_ok = true;
  }
  if (!scheme_ok) return false;
  absl::string_view authority = s.substr(sep + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  absl::string_view host = authority;
  absl::string_view port;
  if (absl::StartsWith(authority, "[")) {  // IPv6 literal
    size_t close = authority.find(']');
    if (close == absl::string_view::npos || close == 1) return false;
    host = authority.substr(0, close + 1);
    absl::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
  } else if (size_t colon = authority.rfind(':');
             colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return false;
  }
  if (host.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string CountRule(size_t max) {
  return absl::StrCat("must have at most ", max, " entries");
}

bool ParseText(const Json& v, absl::string_view path, size_t max_chars,
               bool allow_empty, std::string* out, FieldErrorList* errors) {
  const std::string* s = GetString(v, path, errors);
  if (s == nullptr) return false;
  std::string e = TextError(*s, max_chars, allow_empty);
  if (!e.empty()) {
    errors->Add(std::string(path), e);
    return false;
  }
  *out = *s;
  return true;
}

void ParseTextList(const Json& v, absl::string_view path, size_t max_items,
                   size_t max_chars, std::vector<std::string>* out,
                   FieldErrorList* errors) {
  if (!v.is_array()) {
    errors->Add(std::string(path), kMustBeStringArray);
    return;
  }
  if (v.size() > max_items)
    errors->Add(std::string(path), CountRule(max_items));
  out->reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    std::string s;
    if (ParseText(v[i], IndexPath(path, i), max_chars, false, &s, errors)) {
      out->push_back(std::move(s));
    }
  }
}

void ParseChannelList(const Json& v, absl::string_view path,
                      std::vector<Channel>* out, FieldErrorList* errors) {
  if (!v.is_array()) {
    errors->Add(std::string(path), kMustBeStringArray);
    return;
  }
  uint32_t seen = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      errors->Add(IndexPath(path, i), kMustBeString);
      continue;
    }
    absl::StatusOr<Channel> c =
        ParseChannel(v[i].get_ref<const std::string&>());
    if (!c.ok()) {
      errors->Add(IndexPath(path, i), kChannelRule);
      continue;
    }
    uint32_t bit = 1u << static_cast<int>(*c);
    if (seen & bit) errors->Add(IndexPath(path, i), kDuplicate);
    seen |= bit;
    out->push_back(*c);
  }
}

void ParseUuidList(const Json& v, absl::string_view path, size_t max_items,
                   std::vector<std::string>* out, FieldErrorList* errors) {
  if (!v.is_array()) {
    errors->Add(std::string(path), kMustBeStringArray);
    return;
  }
  const bool too_many = v.size() > max_items;
  if (too_many) errors->Add(std::string(path), CountRule(max_items));
  out->reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      errors->Add(IndexPath(path, i), kMustBeString);
      continue;
    }
    const std::string& id = v[i].get_ref<const std::string&>();
    if (!IsUuid(id)) {
      errors->Add(IndexPath(path, i), kMustBeUuid);
      continue;
    }
    // Quadratic, so only within the limit; that is at most 50 entries.
    if (!too_many) {
      bool repeated = false;
      for (size_t k = 0; k < i && !repeated; ++k) {
        repeated =
            v[k].is_string() &&
            absl::EqualsIgnoreCase(v[k].get_ref<const std::string&>(), id);
      }
      if (repeated) {
        errors->Add(IndexPath(path, i), kDuplicate);
        continue;
      }
    }
    out->push_back(absl::AsciiStrToLower(id));
  }
}

std::optional<Priority> ParsePriorityAt(const Json& v, absl::string_view path,
                                        FieldErrorList* errors) {
  absl::StatusOr<Priority> p = ParsePriority(v);
  if (p.ok()) return *p;
  errors->Add(std::string(path), kPriorityRule);
  return std::nullopt;
}

std::optional<Channel> ParseChannelAt(const Json& v, absl::string_view path,
                                      FieldErrorList* errors) {
  if (!v.is_string()) {
    errors->Add(std::string(path), kMustBeString);
    return std::nullopt;
  }
  absl::StatusOr<Channel> c = ParseChannel(v.get_ref<const std::string&>());
  if (c.ok()) return *c;
  errors->Add(std::string(path), kChannelRule);
  return std::nullopt;
}

std::optional<absl::Time> ParseTimeAt(const Json& v, absl::string_view path,
                                      FieldErrorList* errors) {
  const std::string* s = GetString(v, path, errors);
  if (s == nullptr) return std::nullopt;
  absl::StatusOr<absl::Time> t = ParseRfc3339(*s);
  if (!t.ok()) {
    errors->Add(std::string(path), kRfc3339Rule);
    return std::nullopt;
  }
  return absl::FromUnixMicros(absl::ToUnixMicros(*t));
}

void ParseRequiredString(const Json* v, absl::string_view path,
                         std::string* out, FieldErrorList* errors) {
  if (v == nullptr) {
    errors->Add(std::string(path), kRequired);
    return;
  }
  if (const std::string* s = GetString(*v, path, errors)) *out = *s;
}

void ParseOptionalTime(const Json* v, absl::string_view path, absl::Time* out,
                       FieldErrorList* errors) {
  if (v == nullptr) return;
  if (std::optional<absl::Time> t = ParseTimeAt(*v, path, errors)) *out = *t;
}

Json ChannelsToJson(const std::vector<Channel>& channels) {
  Json out = Json::array();
  for (Channel c : channels) out.push_back(std::string(ChannelName(c)));
  return out;
}

void PutTime(Json& j, const char* key, absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return;
  j[key] = FormatRfc3339(t);
}

RecordReader::RecordReader(const Json& j, absl::string_view prefix,
                           FieldErrorList* errors)
    : prefix_(prefix), errors_(errors) {
  if (j.is_object()) {
    object_ = &j;
  } else {
    errors_->Add(std::string(prefix),
                 prefix.empty() ? kNotAnObject : kMustBeObject);
  }
}

const Json* RecordReader::Find(const char* key, bool required) {
  if (object_ == nullptr) return nullptr;
  auto it = object_->find(key);
  if (it == object_->end() || it->is_null()) {
    if (required) Fail(key, kRequired);
    return nullptr;
  }
  return &*it;
}

void RecordReader::Fail(absl::string_view key, absl::string_view message) {
  errors_->Add(PathOf(key), message);
}

void RecordReader::String(const char* key, std::string* out, bool required) {
  const Json* v = Find(key, required);
  if (v == nullptr) return;
  if (!v->is_string()) return Fail(key, kMustBeString);
  *out = v->get<std::string>();
}

void RecordReader::Bool(const char* key, bool* out, bool required) {
  const Json* v = Find(key, required);
  if (v == nullptr) return;
  if (!v->is_boolean()) return Fail(key, kMustBeBool);
  *out = v->get<bool>();
}

void RecordReader::Int(const char* key, int64_t* out, bool required) {
  const Json* v = Find(key, required);
  if (v == nullptr) return;
  std::optional<int64_t> i =
      GetInt(*v, PathOf(key), std::numeric_limits<int64_t>::min(),
             std::numeric_limits<int64_t>::max(), errors_);
  if (i.has_value()) *out = *i;
}

void RecordReader::Int(const char* key, int* out, bool required) {
  const Json* v = Find(key, required);
  if (v == nullptr) return;
  std::optional<int64_t> i =
      GetInt(*v, PathOf(key), std::numeric_limits<int>::min(),
             std::numeric_limits<int>::max(), errors_);
  if (i.has_value()) *out = static_cast<int>(*i);
}

void RecordReader::Double(const char* key, double* out, bool required) {
  const Json* v = Find(key, required);
  if (v == nullptr) return;
  if (!v->is_number()) return Fail(key, "must be a number");
  *out = v->get<double>();
}

void RecordReader::Time(const char* key, absl::Time* out, bool required) {
  const Json* v = Find(key, required);
  if (v == nullptr) return;
  if (!v->is_string()) return Fail(key, kMustBeString);
  absl::StatusOr<absl::Time> t = ParseRfc3339(v->get_ref<const std::string&>());
  if (!t.ok()) return Fail(key, kRfc3339Rule);
  *out = *t;
}

void RecordReader::OptionalTime(const char* key,
                                std::optional<absl::Time>* out) {
  absl::Time t = absl::InfinitePast();
  Time(key, &t);
  if (t != absl::InfinitePast()) *out = t;
}

void RecordReader::Seconds(const char* key, absl::Duration* out,
                           bool required) {
  const Json* v = Find(key, required);
  if (v == nullptr) return;
  std::optional<int64_t> seconds =
      GetInt(*v, PathOf(key), std::numeric_limits<int64_t>::min(),
             std::numeric_limits<int64_t>::max(), errors_);
  if (seconds.has_value()) *out = absl::Seconds(*seconds);
}

void RecordReader::StringList(const char* key, std::vector<std::string>* out) {
  const Json* v = Find(key);
  if (v == nullptr) return;
  if (GetStringArray(*v, PathOf(key), errors_) == nullptr) return;
  out->clear();
  out->reserve(v->size());
  for (const Json& e : *v) out->push_back(e.get<std::string>());
}

void RecordReader::StringMap(const char* key,
                             std::map<std::string, std::string>* out) {
  const Json* v = Find(key);
  if (v == nullptr) return;
  if (!v->is_object()) return Fail(key, kMustBeObject);
  out->clear();
  for (const auto& [k, value] : v->items()) {
    if (!value.is_string()) {
      errors_->Add(Path(PathOf(key), k), kMustBeString);
      continue;
    }
    out->emplace(k, value.get<std::string>());
  }
}

void RecordReader::Object(const char* key, Json* out, bool required) {
  const Json* v = Find(key, required);
  if (v == nullptr) return;
  if (!v->is_object()) return Fail(key, kMustBeObject);
  *out = *v;
}

}  // namespace alerthub::model_internal
