#include "alerthub/server/http/internal/access_log.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "alerthub/common/time.h"

namespace alerthub::http::http_internal {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  size_t len;
  uint32_t min;
  uint32_t cp;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, min = 0x80, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, min = 0x800, cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, min = 0x10000, cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

void AppendJsonString(std::string& out, absl::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out.append("\\ufffd");
        ++i;
      } else {
        out.append(s.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

std::string FormatAccessLogLine(const AccessLogEntry& e) {
  std::string line;
  line.reserve(320 + e.path.size());
  line.append("{\"ts\":\"");
  line.append(FormatRfc3339(e.ts));
  line.append("\",\"level\":\"info\",\"msg\":\"request\",\"method\":");
  AppendJsonString(line, e.method);
  line.append(",\"path\":");
  AppendJsonString(line, e.path);
  line.append(",\"route\":");
  AppendJsonString(line, e.route);
  absl::StrAppend(
      &line, ",\"status\":", e.status, ",\"bytes\":", e.bytes,
      ",\"duration_ms\":",
      absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(e.duration)),
      ",\"request_id\":");
  AppendJsonString(line, e.request_id);
  line.append(",\"traceparent\":");
  AppendJsonString(line, e.traceparent);
  line.append(",\"remote\":");
  AppendJsonString(line, e.remote);
  line.push_back('}');
  return line;
}

absl::string_view HttpDate(absl::Time now) {
  struct Cache {
    int64_t second = -1;
    std::string text;
  };
  thread_local Cache cache;
  const int64_t second = absl::ToUnixSeconds(now);
  if (second != cache.second) {
    cache.second = second;
    cache.text =
        absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                         absl::FromUnixSeconds(second), absl::UTCTimeZone());
  }
  return cache.text;
}

}  // namespace alerthub::http::http_internal
