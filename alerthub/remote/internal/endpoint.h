// The router's base URL as remote mode accepts it: "http://host[:port]" or
// "https://host[:port]", optionally with a trailing "/" and nothing else, so
// every route of docs/api.md is appended to a known base.
//
//   absl::StatusOr<Endpoint> e = ParseEndpoint("http://127.0.0.1:8080/");
//   e->base_url     // "http://127.0.0.1:8080"
//   e->host, e->port, e->tls   // "127.0.0.1", 8080, false
#ifndef ALERTHUB_REMOTE_INTERNAL_ENDPOINT_H_
#define ALERTHUB_REMOTE_INTERNAL_ENDPOINT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace alerthub::remote_internal {

struct Endpoint {
  bool tls = false;         // https
  std::string host;         // name or IP address; IPv6 without brackets
  int port = 0;             // explicit, else 80 or 443
  std::string host_header;  // "host[:port]" as the Host header carries it
  std::string base_url;     // scheme://authority, no trailing slash
};

// kInvalidArgument with a field error on "endpoint" naming what is wrong:
// another scheme, no host, user info, a bad port, or a path, query or
// fragment beyond "/".
absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view url);

// `s` percent-encoded for a path segment or a query value: everything but
// RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) is escaped.
std::string PercentEncode(absl::string_view s);

}  // namespace alerthub::remote_internal

#endif  // ALERTHUB_REMOTE_INTERNAL_ENDPOINT_H_
