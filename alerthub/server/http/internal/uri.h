// Request-target parsing (RFC 9112 §3.2, RFC 3986 percent-encoding).
#ifndef ALERTHUB_SERVER_HTTP_INTERNAL_URI_H_
#define ALERTHUB_SERVER_HTTP_INTERNAL_URI_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace alerthub::http::http_internal {

// Percent-decodes `in`; with `plus_as_space` (query strings), '+' is a
// space. nullopt on a malformed escape, and on %00 (no NUL reaches handlers).
std::optional<std::string> PercentDecode(absl::string_view in,
                                         bool plus_as_space);

struct ParsedTarget {
  absl::string_view raw_path;         // the path as sent, into the target
  std::string path;                   // decoded
  std::vector<std::string> segments;  // decoded one by one: "a%2Fb" stays one
  std::multimap<std::string, std::string> query;
};

// Parses an origin-form ("/p?q") or absolute-form ("http://h/p?q") target.
// nullopt when it is neither or holds a malformed escape. A "#fragment" is
// dropped.
std::optional<ParsedTarget> ParseTarget(absl::string_view target);

// "/a/b" -> {"a", "b"}; "/" and "" -> {}; "/a/" -> {"a", ""}. No decoding.
std::vector<std::string> SplitPath(absl::string_view path);

}  // namespace alerthub::http::http_internal

#endif  // ALERTHUB_SERVER_HTTP_INTERNAL_URI_H_
