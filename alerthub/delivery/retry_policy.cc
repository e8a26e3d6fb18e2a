#include "alerthub/delivery/retry_policy.h"

#include <algorithm>
#include <cmath>

#include "absl/random/distributions.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"

namespace alerthub {
namespace {

using Json = nlohmann::json;

constexpr absl::string_view kUnknownField = "unknown field";
constexpr absl::string_view kNotAnObject = "must be a JSON object";
constexpr absl::string_view kDurationRule =
    "must be a duration such as \"5m\" or a number of seconds, from 0 to 168h";
constexpr absl::string_view kJitterRule = "must be a number at least 0 and below 1";

// delta-seconds longer than this many digits are not a delay anyone meant.
constexpr size_t kMaxDeltaSecondsDigits = 12;

// The three HTTP-date forms of RFC 9110 §5.6.7, preferred first.
constexpr const char* kHttpDateFormats[] = {
    "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate
    "%A, %d-%b-%y %H:%M:%S GMT",  // obsolete RFC 850
    "%a %b %e %H:%M:%S %Y",       // obsolete asctime()
};

std::optional<absl::Duration> ParseJsonDuration(const Json& v) {
  absl::Duration d;
  if (v.is_number()) {
    const double seconds = v.get<double>();
    if (!std::isfinite(seconds) || seconds < 0) return std::nullopt;
    if (seconds > absl::ToDoubleSeconds(RetryPolicyLimits::kMaxDelay)) return std::nullopt;
    d = absl::Seconds(seconds);
  } else if (v.is_string()) {
    if (!absl::ParseDuration(v.get<std::string>(), &d)) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (d < absl::ZeroDuration() || d > RetryPolicyLimits::kMaxDelay) return std::nullopt;
  return d;
}

}  // namespace

absl::string_view AttemptOutcomeName(AttemptOutcome outcome) {
  switch (outcome) {
    case AttemptOutcome::kSuccess:
      return "success";
    case AttemptOutcome::kRetriable:
      return "retriable";
    case AttemptOutcome::kPermanent:
      return "permanent";
    case AttemptOutcome::kGone:
      return "gone";
  }
  return "unknown";
}

AttemptOutcome ClassifyHttpStatus(int status) {
  if (status >= 200 && status <= 299) return AttemptOutcome::kSuccess;
  if (status == 410) return AttemptOutcome::kGone;
  if (status == 408 || status == 429) return AttemptOutcome::kRetriable;
  if (status >= 400 && status <= 499) return AttemptOutcome::kPermanent;
  if (status >= 500 && status <= 599) return AttemptOutcome::kRetriable;
  if (status >= 100 && status <= 399) return AttemptOutcome::kPermanent;
  return AttemptOutcome::kRetriable;
}

AttemptOutcome ClassifyTransportError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return AttemptOutcome::kSuccess;
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
      return AttemptOutcome::kRetriable;
    default:
      return AttemptOutcome::kPermanent;
  }
}

RetryDecision NextAttempt(const RetryPolicy& policy, int attempts_made,
                          AttemptOutcome outcome,
                          std::optional<absl::Duration> retry_after, absl::Time now,
                          absl::BitGenRef rng) {
  RetryDecision d;
  switch (outcome) {
    case AttemptOutcome::kSuccess:
      d.reason = "delivered";
      return d;
    case AttemptOutcome::kPermanent:
      d.reason = "permanent failure; not retried";
      return d;
    case AttemptOutcome::kGone:
      d.reason = "endpoint is gone (HTTP 410); not retried, and the integration "
                 "should be disabled";
      return d;
    case AttemptOutcome::kRetriable:
      break;
  }

  const size_t made = static_cast<size_t>(std::max(attempts_made, 0));
  const size_t total = policy.schedule.size();
  if (made >= total) {
    d.reason = absl::StrCat("retry schedule exhausted after ", made, " attempts");
    return d;
  }

  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  absl::Duration delay = policy.schedule[made];
  if (jitter > 0) {
    delay *= absl::Uniform(absl::IntervalClosedClosed, rng, 1.0 - jitter, 1.0 + jitter);
  }
  // Milliseconds (rounded to nearest) are plenty for a schedule and keep
  // reasons readable.
  delay = absl::Trunc(delay + absl::Microseconds(500), absl::Milliseconds(1));
  std::string why;
  if (retry_after.has_value()) {
    const absl::Duration asked = std::max(*retry_after, absl::ZeroDuration());
    const absl::Duration honoured = std::min(asked, policy.max_retry_after);
    if (honoured > delay) {
      delay = honoured;
      why = asked > honoured ? absl::StrCat(", Retry-After ", absl::FormatDuration(asked),
                                            " capped")
                             : ", as Retry-After asked";
    }
  }
  d.retry = true;
  d.next_attempt_at = now + delay;
  d.reason = absl::StrCat("attempt ", made + 1, " of ", total, " in ",
                          absl::FormatDuration(delay), why);
  return d;
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view header_value,
                                              absl::Time now) {
  const absl::string_view v = absl::StripAsciiWhitespace(header_value);
  if (v.empty()) return std::nullopt;

  if (absl::ascii_isdigit(static_cast<unsigned char>(v[0]))) {
    const size_t dot = v.find('.');
    const absl::string_view whole = v.substr(0, dot);
    const absl::string_view fraction =
        dot == absl::string_view::npos ? absl::string_view() : v.substr(dot + 1);
    auto digits = [](absl::string_view s) {
      return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c));
      });
    };
    if (!digits(whole) || whole.size() > kMaxDeltaSecondsDigits) return std::nullopt;
    if (dot == absl::string_view::npos) {
      int64_t seconds = 0;
      if (!absl::SimpleAtoi(whole, &seconds)) return std::nullopt;
      return absl::Seconds(seconds);
    }
    double seconds = 0;
    if (!digits(fraction) || !absl::SimpleAtod(v, &seconds)) return std::nullopt;
    return absl::Seconds(seconds);
  }

  for (const char* format : kHttpDateFormats) {
    absl::Time when;
    std::string err;
    if (absl::ParseTime(format, v, absl::UTCTimeZone(), &when, &err)) {
      return std::max(when - now, absl::ZeroDuration());
    }
  }
  return std::nullopt;
}

absl::StatusOr<RetryPolicy> RetryPolicyFromJson(const nlohmann::json& j) {
  std::vector<FieldError> errors;
  if (!j.is_object()) {
    return InvalidArgumentWithFields("invalid retry policy",
                                     {{"", std::string(kNotAnObject)}});
  }
  RetryPolicy policy;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const Json& v = it.value();
    if (key == "schedule") {
      if (!v.is_array() || v.empty() || v.size() > RetryPolicyLimits::kMaxAttempts) {
        errors.push_back({"schedule", absl::StrCat("must be an array of 1-",
                                                   RetryPolicyLimits::kMaxAttempts,
                                                   " durations")});
        continue;
      }
      policy.schedule.clear();
      for (size_t i = 0; i < v.size(); ++i) {
        std::optional<absl::Duration> d = ParseJsonDuration(v[i]);
        if (!d.has_value()) {
          errors.push_back({absl::StrCat("schedule[", i, "]"), std::string(kDurationRule)});
          continue;
        }
        policy.schedule.push_back(*d);
      }
    } else if (key == "jitter") {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 ||
          v.get<double>() >= 1) {
        errors.push_back({"jitter", std::string(kJitterRule)});
        continue;
      }
      policy.jitter = v.get<double>();
    } else if (key == "max_retry_after") {
      std::optional<absl::Duration> d = ParseJsonDuration(v);
      if (!d.has_value()) {
        errors.push_back({"max_retry_after", std::string(kDurationRule)});
        continue;
      }
      policy.max_retry_after = *d;
    } else {
      errors.push_back({key, std::string(kUnknownField)});
    }
  }
  if (!errors.empty()) {
    return InvalidArgumentWithFields("invalid retry policy", std::move(errors));
  }
  return policy;
}

nlohmann::json RetryPolicyToJson(const RetryPolicy& policy) {
  Json schedule = Json::array();
  for (absl::Duration d : policy.schedule) schedule.push_back(absl::FormatDuration(d));
  return Json{{"schedule", std::move(schedule)},
              {"jitter", policy.jitter},
              {"max_retry_after", absl::FormatDuration(policy.max_retry_after)}};
}

}  // namespace alerthub
