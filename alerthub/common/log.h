// Structured logging: one JSON object per line on stderr, as operators'
// log pipelines expect.
//
//   Log(LogLevel::kInfo, "listening", {{"port", 8080}});
//   // {"ts":"2026-11-27T04:40:12.345678Z","level":"info","msg":"listening","port":8080}
//
// Secrets never go into fields; e-mail addresses are masked by callers
// (MaskEmail). Thread-safe: each line is written with one write(2).
#ifndef ALERTHUB_COMMON_LOG_H_
#define ALERTHUB_COMMON_LOG_H_

#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace alerthub {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Writes `msg` with `fields` (a JSON object, may be null) merged in.
void Log(LogLevel level, absl::string_view msg, const nlohmann::json& fields = nullptr);

// The line Log() writes, without the trailing newline (for tests).
std::string FormatLogLine(LogLevel level, absl::string_view msg, const nlohmann::json& fields);

// "j***@example.com" for "jane@example.com"; unchanged when not an address.
std::string MaskEmail(absl::string_view email);

}  // namespace alerthub

#endif  // ALERTHUB_COMMON_LOG_H_
