#include "alerthub/remote/internal/endpoint.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"

namespace alerthub::remote_internal {
namespace {

absl::Status BadEndpoint(absl::string_view url, absl::string_view why) {
  return InvalidArgumentWithFields(absl::StrCat("invalid endpoint \"", url, "\""),
                                   {{"endpoint", std::string(why)}});
}

bool IsHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

bool IsIpv6Char(char c) {
  return absl::ascii_isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
}

}  // namespace

absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view url) {
  constexpr absl::string_view kExpected =
      "must be http://host[:port] or https://host[:port] with no path";
  Endpoint e;
  absl::string_view rest = url;
  if (absl::StartsWithIgnoreCase(rest, "http://")) {
    rest.remove_prefix(7);
  } else if (absl::StartsWithIgnoreCase(rest, "https://")) {
    e.tls = true;
    rest.remove_prefix(8);
  } else {
    return BadEndpoint(url, kExpected);
  }
  const size_t end = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, end);
  absl::string_view tail = end == absl::string_view::npos ? "" : rest.substr(end);
  if (!tail.empty() && tail != "/") {
    return BadEndpoint(url, "must not have a path, query or fragment (the API is at /api/v1)");
  }
  if (absl::StrContains(authority, '@')) {
    return BadEndpoint(url, "must not hold credentials; set ClientOptions::api_key");
  }

  absl::string_view port_text;
  if (absl::StartsWith(authority, "[")) {  // IPv6 literal
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos || close == 1) return BadEndpoint(url, kExpected);
    e.host = std::string(authority.substr(1, close - 1));
    for (char c : e.host) {
      if (!IsIpv6Char(c)) return BadEndpoint(url, "has a malformed IPv6 address");
    }
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return BadEndpoint(url, kExpected);
      port_text = after.substr(1);
      if (port_text.empty()) return BadEndpoint(url, "has an empty port");
    }
  } else {
    const size_t colon = authority.find(':');
    e.host = std::string(authority.substr(0, colon));
    if (colon != absl::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return BadEndpoint(url, "has an empty port");
    }
    for (char c : e.host) {
      if (!IsHostChar(c)) return BadEndpoint(url, "has a malformed host");
    }
  }
  if (e.host.empty()) return BadEndpoint(url, "has no host");

  e.port = e.tls ? 443 : 80;
  if (!port_text.empty()) {
    int port = 0;
    bool digits = true;
    for (char c : port_text) digits = digits && absl::ascii_isdigit(static_cast<unsigned char>(c));
    if (!digits || port_text.size() > 5 || !absl::SimpleAtoi(port_text, &port) || port < 1 ||
        port > 65535) {
      return BadEndpoint(url, "has a port outside 1-65535");
    }
    e.port = port;
  }
  const bool ipv6 = absl::StrContains(e.host, ':');
  const std::string host_part = ipv6 ? absl::StrCat("[", e.host, "]") : e.host;
  const bool default_port = e.port == (e.tls ? 443 : 80);
  e.host_header = default_port ? host_part : absl::StrCat(host_part, ":", e.port);
  e.base_url = absl::StrCat(e.tls ? "https://" : "http://", absl::AsciiStrToLower(host_part),
                            default_port ? "" : absl::StrCat(":", e.port));
  return e;
}

std::string PercentEncode(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace alerthub::remote_internal
