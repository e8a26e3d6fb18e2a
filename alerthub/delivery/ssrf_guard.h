// The SSRF guard: AlertHub sends HTTP requests to URLs its tenants choose
// (webhooks, Slack and Discord webhook URLs, ...), so a tenant must not be able
// to make it call loopback services, the private network it runs in or a
// cloud metadata endpoint (ARCHITECTURE §4: "private, loopback, link-local and
// metadata addresses are refused unless the deployment allows them").
//
//   absl::StatusOr<std::vector<ResolvedAddress>> addrs =
//       ResolveAndVet(integration_url, SsrfPolicy{});
//   if (!addrs.ok()) return addrs.status();   // kPermissionDenied: refused
//   curl_slist* pin = curl_slist_append(nullptr, CurlResolveEntry(*addrs).c_str());
//   curl_easy_setopt(curl, CURLOPT_RESOLVE, pin);   // connect only to *addrs
//
// The URL is parsed here, with the rules curl and browsers use for numeric
// hosts, every address the host resolves to is vetted, and the caller
// connects only to those addresses (CURLOPT_RESOLVE), so a second DNS answer
// cannot point the request elsewhere (DNS rebinding). Callers should also:
// never follow redirects, restrict the protocols to http/https, bypass proxies
// (a proxy resolves the name itself), and, for defence in depth, vet the
// address of every socket they open (VetSockaddr from
// CURLOPT_OPENSOCKETFUNCTION).
//
// Refused (kPermissionDenied), whatever the policy:
//   unspecified 0.0.0.0/8 and ::, multicast 224.0.0.0/4 and ff00::/8,
//   reserved 240.0.0.0/4 and 255.255.255.255, IETF protocol assignments
//   192.0.0.0/24 (not the /23 parts below), benchmarking 198.18.0.0/15 and
//   2001:2::/48, documentation 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
//   2001:db8::/32 and 3fff::/20, the 6to4 relay anycast 192.88.99.0/24,
//   discard-only 100::/64, other IETF assignments in 2001::/23, IPv6 outside
//   global unicast 2000::/3 not listed here, and the cloud metadata
//   addresses 169.254.169.254, 100.100.100.200 (Alibaba), fd00:ec2::254 and
//   the name metadata.google.internal.
// Refused unless SsrfPolicy::allow_private_networks:
//   loopback 127.0.0.0/8 and ::1 and the names localhost and *.localhost,
//   private 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, unique-local
//   fc00::/7, site-local fec0::/10 and local-use NAT64 64:ff9b:1::/48,
//   link-local 169.254.0.0/16 and fe80::/10, and shared (CGNAT)
//   100.64.0.0/10.
// IPv6 forms that carry an IPv4 address are judged by that address:
// IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64
// 64:ff9b::/96, 6to4 2002::/16 and Teredo 2001::/32 (its server and its
// client address).
//
// Thread-safe: every function is reentrant (getaddrinfo is).
#ifndef ALERTHUB_DELIVERY_SSRF_GUARD_H_
#define ALERTHUB_DELIVERY_SSRF_GUARD_H_

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace alerthub {

struct SsrfPolicy {
  // Allow loopback, private, link-local and shared (CGNAT) destinations:
  // for deployments whose receivers live on the same network, and for tests
  // against local servers (the daemons' --allow_private_networks). Metadata,
  // multicast, unspecified and reserved addresses stay refused.
  bool allow_private_networks = false;
};

// One address a vetted URL may be connected to.
struct ResolvedAddress {
  // The URL's host as the HTTP client sees it: a name in lowercase (a
  // trailing dot kept), an IPv4 literal in dotted-quad form whatever its
  // spelling in the URL, an IPv6 literal without brackets.
  std::string host;
  // The URL's port, or 80/443 by scheme.
  uint16_t port = 0;
  // The address in canonical numeric form ("93.184.216.34", "2606:2800::1").
  std::string ip;
  // AF_INET or AF_INET6.
  int family = AF_INET;

  bool operator==(const ResolvedAddress& other) const = default;
};

// Resolves a host name to numeric addresses ("10.1.2.3", "2001:db8::1").
// kUnavailable when resolution fails. Never called with a numeric host.
using HostResolver =
    std::function<absl::StatusOr<std::vector<std::string>>(const std::string& host)>;

// The system's resolver (getaddrinfo, all address families, TCP).
absl::StatusOr<std::vector<std::string>> SystemResolve(const std::string& host);

// Parses `url`, resolves its host and vets every address it resolves to; the
// result lists them (without duplicates, in resolver order) for the client to
// connect to. Refuses the whole URL when any one address is refused: a name
// mixing public and internal addresses is a rebinding attempt or a mistake.
//   kInvalidArgument   not an absolute http:// or https:// URL; has
//                      userinfo (user:password@); empty or malformed host
//                      (including a numeric host that is not a valid IPv4
//                      address, IPv6 zone ids, percent-encoding and
//                      non-ASCII: use the xn-- form); bad port
//   kPermissionDenied  the host or one of its addresses is refused; the
//                      message names it and why, e.g. "destination 10.0.0.5
//                      is a private address; set --allow_private_networks to
//                      allow it"
//   kUnavailable       the name did not resolve (retry later)
// Numeric hosts are never passed to a resolver: decimal (2130706433), hex
// (0x7f000001, 0x7f.0.0.1), octal (0177.0.0.1) and short (127.1) forms and a
// trailing dot are read as curl and browsers (WHATWG URL) read them.
absl::StatusOr<std::vector<ResolvedAddress>> ResolveAndVet(absl::string_view url,
                                                           const SsrfPolicy& policy);
// The same with another resolver (tests; a caller with its own DNS client).
absl::StatusOr<std::vector<ResolvedAddress>> ResolveAndVet(absl::string_view url,
                                                           const SsrfPolicy& policy,
                                                           const HostResolver& resolve);

// Vets one numeric address (IPv4 in any spelling ResolveAndVet accepts, or
// IPv6 without brackets). OK when allowed; kPermissionDenied as above;
// kInvalidArgument when `ip` is not a numeric address.
absl::Status VetAddress(absl::string_view ip, const SsrfPolicy& policy);

// Vets the address of a socket about to be connected (AF_INET or AF_INET6;
// other families are kPermissionDenied). For CURLOPT_OPENSOCKETFUNCTION.
absl::Status VetSockaddr(const struct sockaddr* addr, const SsrfPolicy& policy);

// The CURLOPT_RESOLVE entry pinning the URL's host to the vetted addresses:
// "host:port:addr[,addr]...", IPv6 addresses in brackets (curl >= 7.59).
// Empty when `addrs` is empty or the host is an IP literal (curl connects to
// a literal without resolving it, and the literal was vetted).
// REQUIRES: every element has the same host and port (as ResolveAndVet
// returns them).
std::string CurlResolveEntry(const std::vector<ResolvedAddress>& addrs);

}  // namespace alerthub

#endif  // ALERTHUB_DELIVERY_SSRF_GUARD_H_
