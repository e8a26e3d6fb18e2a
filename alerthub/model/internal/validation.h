// Helpers shared by the model codecs: collecting field errors, scanning a
// request object in one pass, cheap character-class checks (no std::regex on
// the ingest path) and a reader for stored records. Private to
// //alerthub/model: listed in its srcs, never its hdrs.
//
//   FieldErrorList errors;
//   RequestObject obj(j, kFields, kNumAssigned, /*prefix=*/"",
//                     ParseMode::kRequest, &errors);
//   if (const Json* v = obj.Get(kName)) {
//     if (const std::string* s = GetString(*v, "name", &errors)) ...
//   }
//   return std::move(errors).ToStatus("invalid thing");
#ifndef ALERTHUB_MODEL_INTERNAL_VALIDATION_H_
#define ALERTHUB_MODEL_INTERNAL_VALIDATION_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "alerthub/common/status.h"
#include "alerthub/model/notification.h"
#include "nlohmann/json.hpp"

namespace alerthub::model_internal {

using Json = nlohmann::json;

// Messages shared by every request parser; tests and clients match on them.
inline constexpr absl::string_view kRequired = "is required";
inline constexpr absl::string_view kUnknownField = "unknown field";
inline constexpr absl::string_view kServerAssigned =
    "is assigned by AlertHub and cannot be set";
inline constexpr absl::string_view kNotAnObject = "must be a JSON object";
inline constexpr absl::string_view kMustBeString = "must be a string";
inline constexpr absl::string_view kMustBeObject = "must be an object";
inline constexpr absl::string_view kMustBeArray = "must be an array";
inline constexpr absl::string_view kMustBeStringArray =
    "must be an array of strings";
inline constexpr absl::string_view kMustBeBool = "must be a boolean";
inline constexpr absl::string_view kMustBeInteger = "must be an integer";
inline constexpr absl::string_view kMustNotBeEmpty = "must not be empty";
inline constexpr absl::string_view kDuplicate = "is listed more than once";
inline constexpr absl::string_view kMustBeUuid = "must be a UUID";
inline constexpr absl::string_view kInvalidUtf8 = "must be valid UTF-8";
inline constexpr absl::string_view kSlugRule =
    "must be 1-128 characters of a-z, 0-9, '.', '_' or '-'";
inline constexpr absl::string_view kPriorityRule =
    "must be one of min, low, normal, high, critical or 1-5";
inline constexpr absl::string_view kChannelRule =
    "must be one of webhook, slack, discord, email, push";
inline constexpr absl::string_view kRfc3339Rule =
    "must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z";

// Collects field errors in the order they are found. Capped, so that a
// hostile request (a 256 KiB array of bad entries) cannot produce an
// unbounded error message; the overflow is summarised in one last entry.
class FieldErrorList {
 public:
  static constexpr size_t kMaxErrors = 100;

  void Add(std::string field, absl::string_view message);
  bool empty() const { return errors_.empty(); }

  // OK when nothing was added; else InvalidArgumentWithFields(message, ...).
  absl::Status ToStatus(absl::string_view message) &&;

 private:
  std::vector<FieldError> errors_;
  size_t dropped_ = 0;
};

// "prefix.name", or "name" when `prefix` is empty.
std::string Path(absl::string_view prefix, absl::string_view name);
// "base[index]".
std::string IndexPath(absl::string_view base, size_t index);

// Whether an object comes from a client (strict) or from AlertHub's own
// storage (server-assigned members are read, unknown members are ignored so
// older binaries read newer records).
enum class ParseMode { kRequest, kRecord };

// The members of an object, found in one pass over it. `fields` names the
// members; its last `num_assigned` entries are server-assigned. In kRequest
// mode a non-null server-assigned member is reported as kServerAssigned and
// any other member as kUnknownField (at Path(prefix, member)); in kRecord
// mode both are silently accepted. A member whose value is null counts as
// absent, so clients that serialise unset optionals as null are accepted.
class RequestObject {
 public:
  static constexpr size_t kMaxFields = 24;

  // REQUIRES: `object` is an object, fields.size() <= kMaxFields. `object`
  // must outlive this.
  RequestObject(const Json& object, absl::Span<const absl::string_view> fields,
                size_t num_assigned, absl::string_view prefix, ParseMode mode,
                FieldErrorList* errors);

  // fields[index]'s value; nullptr when absent or null (server-assigned
  // members are always absent in kRequest mode).
  const Json* Get(size_t index) const { return values_[index]; }

 private:
  std::array<const Json*, kMaxFields> values_{};
};

// Typed access that reports the wrong-type message at `path` and returns
// nullptr / std::nullopt when `v` has the wrong type.
const std::string* GetString(const Json& v, absl::string_view path,
                             FieldErrorList* errors);
std::optional<bool> GetBool(const Json& v, absl::string_view path,
                            FieldErrorList* errors);
// An integral JSON number (not 2.0) within [min, max]; out of range reports
// "must be between min and max".
std::optional<int64_t> GetInt(const Json& v, absl::string_view path,
                              int64_t min, int64_t max, FieldErrorList* errors);
// An array whose every element is a string, else kMustBeStringArray at path.
const Json* GetStringArray(const Json& v, absl::string_view path,
                           FieldErrorList* errors);

// The string in `v`; empty when `v` is not a string (for enum names, where
// the empty name is invalid anyway).
inline absl::string_view StringOrEmpty(const Json& v) {
  return v.is_string() ? absl::string_view(v.get_ref<const std::string&>())
                       : absl::string_view();
}

// "must have at most <max> entries".
std::string CountRule(size_t max);

// A string that passes TextError(max_chars, allow_empty), copied to *out;
// false after reporting at `path` otherwise.
bool ParseText(const Json& v, absl::string_view path, size_t max_chars,
               bool allow_empty, std::string* out, FieldErrorList* errors);
// An array of at most `max_items` non-empty strings of at most `max_chars`
// characters each; errors at path or path[i].
void ParseTextList(const Json& v, absl::string_view path, size_t max_items,
                   size_t max_chars, std::vector<std::string>* out,
                   FieldErrorList* errors);
// An array of channel names without repeats.
void ParseChannelList(const Json& v, absl::string_view path,
                      std::vector<Channel>* out, FieldErrorList* errors);
// An array of at most `max_items` UUIDs without repeats (compared
// case-insensitively), stored lowercase, the canonical form.
void ParseUuidList(const Json& v, absl::string_view path, size_t max_items,
                   std::vector<std::string>* out, FieldErrorList* errors);
// A priority name or 1-5 (see ParsePriority); kPriorityRule otherwise.
std::optional<Priority> ParsePriorityAt(const Json& v, absl::string_view path,
                                        FieldErrorList* errors);
// A channel name; kChannelRule otherwise.
std::optional<Channel> ParseChannelAt(const Json& v, absl::string_view path,
                                      FieldErrorList* errors);
// An RFC 3339 string, truncated to the microseconds stores keep.
std::optional<absl::Time> ParseTimeAt(const Json& v, absl::string_view path,
                                      FieldErrorList* errors);
// Record mode: a required string (kRequired when `v` is null) and an
// optional RFC 3339 time, for server-assigned members.
void ParseRequiredString(const Json* v, absl::string_view path,
                         std::string* out, FieldErrorList* errors);
void ParseOptionalTime(const Json* v, absl::string_view path, absl::Time* out,
                       FieldErrorList* errors);
// A JSON array of channel names.
Json ChannelsToJson(const std::vector<Channel>& channels);

// [a-z0-9._-]{1,max_len}: notification types, template names.
bool IsSlug(absl::string_view s, size_t max_len);
// [A-Za-z0-9_.-]{1,max_len}: tag keys.
bool IsTagKey(absl::string_view s, size_t max_len);
// [a-z0-9._*-]{1,max_len}: type globs ('*' matches any run of characters).
bool IsTypeGlob(absl::string_view s, size_t max_len);
// Code points in `s`; std::nullopt when `s` is not valid UTF-8.
std::optional<size_t> Utf8Length(absl::string_view s);
// Valid UTF-8 with no control characters (C0, DEL, C1).
bool IsPrintable(absl::string_view s);

// The message for text that breaks "valid UTF-8, non-empty unless
// allow_empty, at most max_chars code points"; empty when `s` is fine.
std::string TextError(absl::string_view s, size_t max_chars, bool allow_empty);

// A plausible e-mail address: 3-254 printable characters without spaces,
// one '@' with text on both sides. Delivery is the real test.
bool IsEmailAddress(absl::string_view s);

// An absolute URL whose scheme (case-insensitive) is one of `schemes`, with a
// non-empty host and no whitespace or control characters, at most 2048
// bytes.
bool IsUrlWithScheme(absl::string_view s,
                     std::initializer_list<absl::string_view> schemes);

// Writes `t` as RFC 3339 unless it is infinite (an unset time), which is
// omitted.
void PutTime(Json& j, const char* key, absl::Time t);

// Reads an object of a stored record written by the matching XxxToJson():
// fields ToJson() always writes are required, the ones it omits when empty
// are optional; every shape error is added to `errors` at Path(prefix, key).
// Unknown members are ignored, so older binaries read newer records.
//
//   FieldErrorList errors;
//   RecordReader r(j, "", &errors);
//   r.String("id", &t.id, /*required=*/true);
//   ALERTHUB_RETURN_IF_ERROR(std::move(errors).ToStatus("invalid tenant
//   record"));
class RecordReader {
 public:
  // Reports kMustBeObject at `prefix` (or kNotAnObject when it is empty) if
  // `j` is not an object; every accessor then finds nothing. `j` and
  // `errors` must outlive this.
  RecordReader(const Json& j, absl::string_view prefix, FieldErrorList* errors);

  // The member's value, nullptr when absent or null (kRequired is reported
  // when `required`).
  const Json* Find(const char* key, bool required = false);
  void Fail(absl::string_view key, absl::string_view message);
  std::string PathOf(absl::string_view key) const { return Path(prefix_, key); }
  FieldErrorList* errors() const { return errors_; }

  // Each leaves *out unchanged when the member is absent and reports a shape
  // error when it has the wrong type.
  void String(const char* key, std::string* out, bool required = false);
  void Bool(const char* key, bool* out, bool required = false);
  void Int(const char* key, int64_t* out, bool required = false);
  void Int(const char* key, int* out, bool required = false);
  void Double(const char* key, double* out, bool required = false);
  void Time(const char* key, absl::Time* out, bool required = false);
  void OptionalTime(const char* key, std::optional<absl::Time>* out);
  // Integer seconds.
  void Seconds(const char* key, absl::Duration* out, bool required = false);
  void StringList(const char* key, std::vector<std::string>* out);
  void StringMap(const char* key, std::map<std::string, std::string>* out);
  // Any object (copied).
  void Object(const char* key, Json* out, bool required = false);

 private:
  const Json* object_ = nullptr;
  std::string prefix_;
  FieldErrorList* errors_;
};

}  // namespace alerthub::model_internal

#endif  // ALERTHUB_MODEL_INTERNAL_VALIDATION_H_
