#include "alerthub/server/http/internal/uri.h"

#include <utility>

#include "absl/strings/match.h"

namespace alerthub::http::http_internal {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> PercentDecode(absl::string_view in,
                                         bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      const char decoded = static_cast<char>(hi << 4 | lo);
      if (decoded == '\0') return std::nullopt;
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<std::string> SplitPath(absl::string_view path) {
  std::vector<std::string> segments;
  if (path.empty() || path == "/") return segments;
  if (path.front() == '/') path.remove_prefix(1);
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    if (slash == absl::string_view::npos) {
      segments.emplace_back(path.substr(start));
      break;
    }
    segments.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return segments;
}

std::optional<ParsedTarget> ParseTarget(absl::string_view target) {
  // Absolute form: drop "scheme://authority", keep the path.
  if (!target.empty() && target.front() != '/') {
    const size_t scheme_end = target.find("://");
    if (scheme_end == absl::string_view::npos) return std::nullopt;
    const absl::string_view scheme = target.substr(0, scheme_end);
    if (!absl::EqualsIgnoreCase(scheme, "http") &&
        !absl::EqualsIgnoreCase(scheme, "https")) {
      return std::nullopt;
    }
    target.remove_prefix(scheme_end + 3);
    const size_t path_start = target.find_first_of("/?");
    if (path_start == absl::string_view::npos) {
      target = "/";
    } else {
      target.remove_prefix(path_start);
      if (target.front() == '?')
        return std::nullopt;  // "http://h?q": odd, refuse
    }
  }
  if (target.empty()) return std::nullopt;
  if (const size_t hash = target.find('#'); hash != absl::string_view::npos) {
    target = target.substr(0, hash);
  }

  ParsedTarget parsed;
  const size_t q = target.find('?');
  parsed.raw_path = target.substr(0, q);
  std::optional<std::string> path = PercentDecode(parsed.raw_path, false);
  if (!path) return std::nullopt;
  parsed.path = std::move(*path);

  if (parsed.raw_path != "/") {
    absl::string_view rest = parsed.raw_path.substr(1);
    while (true) {
      const size_t slash = rest.find('/');
      std::optional<std::string> segment =
          PercentDecode(rest.substr(0, slash), false);
      if (!segment) return std::nullopt;
      parsed.segments.push_back(std::move(*segment));
      if (slash == absl::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
  }

  if (q != absl::string_view::npos) {
    absl::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      const absl::string_view pair = query.substr(0, amp);
      query = amp == absl::string_view::npos ? absl::string_view()
                                             : query.substr(amp + 1);
      if (pair.empty()) continue;
      const size_t eq = pair.find('=');
      std::optional<std::string> key = PercentDecode(pair.substr(0, eq), true);
      std::optional<std::string> value =
          eq == absl::string_view::npos
              ? std::optional<std::string>(std::string())
              : PercentDecode(pair.substr(eq + 1), true);
      if (!key || !value) return std::nullopt;
      parsed.query.emplace(std::move(*key), std::move(*value));
    }
  }
  return parsed;
}

}  // namespace alerthub::http::http_internal
