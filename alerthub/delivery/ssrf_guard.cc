#include "alerthub/delivery/ssrf_guard.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace alerthub {
namespace {

constexpr size_t kMaxHostLength = 253;
constexpr size_t kMaxLabelLength = 63;

// What an address or a name is, for the guard.
enum class Kind {
  kPublic,
  // Allowed under allow_private_networks.
  kLoopback,
  kPrivate,
  kLinkLocal,
  kShared,
  kSiteLocal,
  kLocalNat64,
  // Never allowed.
  kUnspecified,
  kMulticast,
  kReserved,
  kBroadcast,
  kBenchmarking,
  kDocumentation,
  kIetfAssignment,
  k6to4Relay,
  kDiscardOnly,
  kNotGlobalUnicast,
  kMetadata,
};

bool AllowedWithPrivateNetworks(Kind kind) {
  switch (kind) {
    case Kind::kLoopback:
    case Kind::kPrivate:
    case Kind::kLinkLocal:
    case Kind::kShared:
    case Kind::kSiteLocal:
    case Kind::kLocalNat64:
      return true;
    default:
      return false;
  }
}

absl::string_view AddressDescription(Kind kind) {
  switch (kind) {
    case Kind::kPublic:
      return "a public address";
    case Kind::kLoopback:
      return "a loopback address";
    case Kind::kPrivate:
      return "a private address";
    case Kind::kLinkLocal:
      return "a link-local address";
    case Kind::kShared:
      return "a shared (carrier-grade NAT) address";
    case Kind::kSiteLocal:
      return "a site-local address";
    case Kind::kLocalNat64:
      return "a local-use NAT64 address";
    case Kind::kUnspecified:
      return "an unspecified address";
    case Kind::kMulticast:
      return "a multicast address";
    case Kind::kReserved:
      return "a reserved address";
    case Kind::kBroadcast:
      return "the broadcast address";
    case Kind::kBenchmarking:
      return "a benchmarking address";
    case Kind::kDocumentation:
      return "a documentation address";
    case Kind::kIetfAssignment:
      return "an IETF protocol assignment address";
    case Kind::k6to4Relay:
      return "a 6to4 relay anycast address";
    case Kind::kDiscardOnly:
      return "a discard-only address";
    case Kind::kNotGlobalUnicast:
      return "an address outside global unicast space (2000::/3)";
    case Kind::kMetadata:
      return "a cloud metadata address";
  }
  return "an unknown kind of address";
}

// "; set --allow_private_networks to allow it" or ", which is never allowed".
absl::string_view RefusalSuffix(Kind kind) {
  return AllowedWithPrivateNetworks(kind)
             ? "; set --allow_private_networks to allow it"
             : ", which is never allowed";
}

// 0 public, 1 allowed under allow_private_networks, 2 never allowed.
int Severity(Kind kind) {
  if (kind == Kind::kPublic) return 0;
  return AllowedWithPrivateNetworks(kind) ? 1 : 2;
}

bool Refused(Kind kind, const SsrfPolicy& policy) {
  if (kind == Kind::kPublic) return false;
  return !(policy.allow_private_networks && AllowedWithPrivateNetworks(kind));
}

// ---------------------------------------------------------------------------
// Addresses.

// An IPv4 or IPv6 address in network byte order (IPv4 in bytes[0..3]).
struct Ip {
  int family = AF_INET;
  std::array<uint8_t, 16> bytes{};
};

Ip FromV4(uint32_t host_order) {
  Ip ip;
  ip.family = AF_INET;
  ip.bytes[0] = static_cast<uint8_t>(host_order >> 24);
  ip.bytes[1] = static_cast<uint8_t>(host_order >> 16);
  ip.bytes[2] = static_cast<uint8_t>(host_order >> 8);
  ip.bytes[3] = static_cast<uint8_t>(host_order);
  return ip;
}

uint32_t V4At(const Ip& ip, size_t offset) {
  return (uint32_t{ip.bytes[offset]} << 24) | (uint32_t{ip.bytes[offset + 1]} << 16) |
         (uint32_t{ip.bytes[offset + 2]} << 8) | uint32_t{ip.bytes[offset + 3]};
}

std::string IpToString(const Ip& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(ip.family, ip.bytes.data(), buf, sizeof(buf));
  return buf;
}

std::string V4ToString(uint32_t v4) { return IpToString(FromV4(v4)); }

struct V4Range {
  uint32_t base;
  int prefix_bits;
  Kind kind;
};

constexpr uint32_t Quad(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// First match wins, so single addresses precede the ranges holding them.
constexpr V4Range kV4Ranges[] = {
    {Quad(0, 0, 0, 0), 8, Kind::kUnspecified},
    {Quad(10, 0, 0, 0), 8, Kind::kPrivate},
    {Quad(100, 100, 100, 200), 32, Kind::kMetadata},  // Alibaba Cloud
    {Quad(100, 64, 0, 0), 10, Kind::kShared},
    {Quad(127, 0, 0, 0), 8, Kind::kLoopback},
    {Quad(169, 254, 169, 254), 32, Kind::kMetadata},  // AWS, GCP, Azure, ...
    {Quad(169, 254, 0, 0), 16, Kind::kLinkLocal},
    {Quad(172, 16, 0, 0), 12, Kind::kPrivate},
    {Quad(192, 0, 0, 0), 24, Kind::kIetfAssignment},  // incl. 192.0.0.192 (OCI)
    {Quad(192, 0, 2, 0), 24, Kind::kDocumentation},
    {Quad(192, 88, 99, 0), 24, Kind::k6to4Relay},
    {Quad(192, 168, 0, 0), 16, Kind::kPrivate},
    {Quad(198, 18, 0, 0), 15, Kind::kBenchmarking},
    {Quad(198, 51, 100, 0), 24, Kind::kDocumentation},
    {Quad(203, 0, 113, 0), 24, Kind::kDocumentation},
    {Quad(224, 0, 0, 0), 4, Kind::kMulticast},
    {Quad(255, 255, 255, 255), 32, Kind::kBroadcast},
    {Quad(240, 0, 0, 0), 4, Kind::kReserved},
};

Kind ClassifyV4(uint32_t v4) {
  for (const V4Range& r : kV4Ranges) {
    const uint32_t mask = r.prefix_bits == 0 ? 0 : ~uint32_t{0} << (32 - r.prefix_bits);
    if ((v4 & mask) == r.base) return r.kind;
  }
  return Kind::kPublic;
}

// What vetting one address found. For IPv6 forms carrying an IPv4 address,
// `embedded` is that address and `kind` its kind.
struct Finding {
  Kind kind = Kind::kPublic;
  std::optional<uint32_t> embedded;
};

bool HasPrefix(const Ip& ip, std::initializer_list<uint8_t> prefix_bytes) {
  size_t i = 0;
  for (uint8_t b : prefix_bytes) {
    if (ip.bytes[i++] != b) return false;
  }
  return true;
}

bool AllZero(const Ip& ip, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    if (ip.bytes[i] != 0) return false;
  }
  return true;
}

Finding ClassifyV6(const Ip& ip) {
  const auto& b = ip.bytes;
  auto embedded = [](uint32_t v4) { return Finding{ClassifyV4(v4), v4}; };
  if (AllZero(ip, 0, 16)) return {Kind::kUnspecified, std::nullopt};
  if (AllZero(ip, 0, 15) && b[15] == 1) return {Kind::kLoopback, std::nullopt};
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated).
  if (AllZero(ip, 0, 10) && b[10] == 0xff && b[11] == 0xff) return embedded(V4At(ip, 12));
  if (AllZero(ip, 0, 12)) return embedded(V4At(ip, 12));
  // NAT64: the well-known prefix carries the IPv4 address in its last 32
  // bits; the local-use prefix is the operator's own network.
  if (HasPrefix(ip, {0x00, 0x64, 0xff, 0x9b}) && AllZero(ip, 4, 12)) {
    return embedded(V4At(ip, 12));
  }
  if (HasPrefix(ip, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01})) {
    return {Kind::kLocalNat64, std::nullopt};
  }
  // 6to4: 2002:AABB:CCDD::/48 is the site behind IPv4 AA.BB.CC.DD.
  if (HasPrefix(ip, {0x20, 0x02})) return embedded(V4At(ip, 2));
  // Teredo 2001:0000::/32: server IPv4 in bits 32-63, client IPv4 inverted in
  // the last 32 bits. The worse of the two decides.
  if (HasPrefix(ip, {0x20, 0x01, 0x00, 0x00})) {
    const uint32_t server = V4At(ip, 4);
    const uint32_t client = ~V4At(ip, 12);
    return Severity(ClassifyV4(server)) >= Severity(ClassifyV4(client))
               ? embedded(server)
               : embedded(client);
  }
  if (HasPrefix(ip, {0x20, 0x01, 0x0d, 0xb8})) return {Kind::kDocumentation, std::nullopt};
  if (HasPrefix(ip, {0x20, 0x01, 0x00, 0x02, 0x00, 0x00})) {
    return {Kind::kBenchmarking, std::nullopt};
  }
  // The rest of 2001::/23 (2001:0000-2001:01ff) is IETF protocol assignments.
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] <= 0x01) {
    return {Kind::kIetfAssignment, std::nullopt};
  }
  // 3fff::/20, documentation (RFC 9637).
  if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0) {
    return {Kind::kDocumentation, std::nullopt};
  }
  // fd00:ec2::254, the AWS instance metadata service over IPv6.
  if (HasPrefix(ip, {0xfd, 0x00, 0x0e, 0xc2}) && AllZero(ip, 4, 14) && b[14] == 0x02 &&
      b[15] == 0x54) {
    return {Kind::kMetadata, std::nullopt};
  }
  if ((b[0] & 0xfe) == 0xfc) return {Kind::kPrivate, std::nullopt};  // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return {Kind::kLinkLocal, std::nullopt};
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return {Kind::kSiteLocal, std::nullopt};
  if (b[0] == 0xff) return {Kind::kMulticast, std::nullopt};
  if (HasPrefix(ip, {0x01, 0x00}) && AllZero(ip, 2, 8)) {
    return {Kind::kDiscardOnly, std::nullopt};  // 100::/64
  }
  if ((b[0] & 0xe0) != 0x20) return {Kind::kNotGlobalUnicast, std::nullopt};
  return {Kind::kPublic, std::nullopt};
}

Finding Classify(const Ip& ip) {
  if (ip.family == AF_INET) return {ClassifyV4(V4At(ip, 0)), std::nullopt};
  return ClassifyV6(ip);
}

// OK, or kPermissionDenied naming `ip` (and `name` when it came from a
// resolved name).
absl::Status Vet(const Ip& ip, absl::string_view name, const SsrfPolicy& policy) {
  const Finding f = Classify(ip);
  if (!Refused(f.kind, policy)) return absl::OkStatus();
  const std::string text = IpToString(ip);
  std::string subject;
  if (name.empty() && !f.embedded.has_value()) {
    subject = absl::StrCat("destination ", text, " is ");
  } else if (name.empty()) {
    subject = absl::StrCat("destination ", text, " embeds ", V4ToString(*f.embedded), ", ");
  } else if (!f.embedded.has_value()) {
    subject = absl::StrCat("destination ", name, " resolves to ", text, ", ");
  } else {
    subject = absl::StrCat("destination ", name, " resolves to ", text, ", which embeds ",
                           V4ToString(*f.embedded), ", ");
  }
  return absl::PermissionDeniedError(
      absl::StrCat(subject, AddressDescription(f.kind), RefusalSuffix(f.kind)));
}

// ---------------------------------------------------------------------------
// Hosts.

// The WHATWG URL "ends in a number" test, which decides whether a host is an
// IPv4 address (and must parse as one) or a name.
bool EndsInNumber(absl::string_view last_label) {
  if (last_label.empty()) return false;
  if (std::all_of(last_label.begin(), last_label.end(), absl::ascii_isdigit)) return true;
  if (last_label.size() >= 2 && last_label[0] == '0' &&
      (last_label[1] == 'x' || last_label[1] == 'X')) {
    return std::all_of(last_label.begin() + 2, last_label.end(), absl::ascii_isxdigit);
  }
  return false;
}

// One part of a numeric IPv4 host: 0x-prefixed hex, 0-prefixed octal or
// decimal. False when malformed or above 2^32.
bool ParseV4Part(absl::string_view part, uint64_t* value) {
  int radix = 10;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    radix = 16;
    part.remove_prefix(2);
  } else if (part.size() >= 2 && part[0] == '0') {
    radix = 8;
    part.remove_prefix(1);
  }
  uint64_t v = 0;
  for (char c : part) {
    int digit;
    if (absl::ascii_isdigit(c)) {
      digit = c - '0';
    } else if (radix == 16 && absl::ascii_isxdigit(c)) {
      digit = absl::ascii_tolower(c) - 'a' + 10;
    } else {
      return false;
    }
    if (digit >= radix) return false;
    v = v * static_cast<uint64_t>(radix) + static_cast<uint64_t>(digit);
    if (v > 0xffffffffull) return false;
  }
  *value = v;
  return true;
}

enum class V4Host { kName, kInvalid, kAddress };

// The WHATWG URL IPv4 parser (what curl >= 7.77 and browsers implement): one
// to four dot-separated numbers, each decimal, octal or hex; the last fills
// the remaining bytes ("127.1" is 127.0.0.1, "2130706433" too); one trailing
// dot is ignored.
V4Host ParseV4Host(absl::string_view host, uint32_t* out) {
  std::vector<absl::string_view> parts = absl::StrSplit(host, '.');
  if (parts.size() > 1 && parts.back().empty()) parts.pop_back();
  if (!EndsInNumber(parts.back())) return V4Host::kName;
  if (parts.size() > 4) return V4Host::kInvalid;
  std::vector<uint64_t> numbers;
  for (absl::string_view part : parts) {
    uint64_t n = 0;
    if (part.empty() || !ParseV4Part(part, &n)) return V4Host::kInvalid;
    numbers.push_back(n);
  }
  for (size_t i = 0; i + 1 < numbers.size(); ++i) {
    if (numbers[i] > 255) return V4Host::kInvalid;
  }
  const size_t free_bytes = 5 - numbers.size();
  if (free_bytes < 4 && numbers.back() >= (uint64_t{1} << (8 * free_bytes))) {
    return V4Host::kInvalid;
  }
  uint64_t v = numbers.back();
  for (size_t i = 0; i + 1 < numbers.size(); ++i) {
    v += numbers[i] << (8 * (3 - i));
  }
  *out = static_cast<uint32_t>(v);
  return V4Host::kAddress;
}

std::optional<Ip> ParseV6(absl::string_view text) {
  Ip ip;
  ip.family = AF_INET6;
  std::string s(text);
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) != 1) return std::nullopt;
  return ip;
}

// Strict numeric forms, as resolvers return them.
std::optional<Ip> ParseCanonicalIp(absl::string_view text) {
  Ip ip;
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) {
    ip.family = AF_INET;
    return ip;
  }
  return ParseV6(text);
}

// Names that resolve to internal addresses by convention, whatever DNS says.
std::optional<Kind> SpecialName(absl::string_view name) {
  absl::ConsumeSuffix(&name, ".");
  if (name == "localhost" || absl::EndsWith(name, ".localhost")) return Kind::kLoopback;
  if (name == "metadata.google.internal") return Kind::kMetadata;
  return std::nullopt;
}

absl::Status ValidateHostName(absl::string_view host) {
  for (char c : host) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return absl::InvalidArgumentError(
          "URL host must be ASCII; write international names in their xn-- form");
    }
  }
  absl::string_view name = host;
  absl::ConsumeSuffix(&name, ".");
  if (name.empty() || name.size() > kMaxHostLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("URL host \"", host, "\" is not a valid host name"));
  }
  for (absl::string_view label : absl::StrSplit(name, '.')) {
    const bool ok = !label.empty() && label.size() <= kMaxLabelLength &&
                    std::all_of(label.begin(), label.end(), [](char c) {
                      return absl::ascii_isalnum(c) || c == '-' || c == '_';
                    });
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("URL host \"", host, "\" is not a valid host name"));
    }
  }
  return absl::OkStatus();
}

struct ParsedUrl {
  std::string host;            // lowercase; IPv4 canonical; IPv6 without brackets
  uint16_t port = 0;
  std::optional<Ip> literal;  // set when the host is an IP address
};

absl::StatusOr<uint16_t> ParsePort(absl::string_view text) {
  uint32_t port = 0;
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(text, &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("URL port \"", text, "\" must be a number from 1 to 65535"));
  }
  return static_cast<uint16_t>(port);
}

absl::StatusOr<ParsedUrl> ParseUrl(absl::string_view url) {
  for (char c : url) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError(
          "URL must not contain spaces or control characters");
    }
  }
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos || scheme_end == 0) {
    return absl::InvalidArgumentError("URL must be an absolute http:// or https:// URL");
  }
  const std::string scheme = absl::AsciiStrToLower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") {
    return absl::InvalidArgumentError(absl::StrCat(
        "URL scheme \"", scheme, "\" is not allowed; use http or https"));
  }
  absl::string_view rest = url.substr(scheme_end + 3);
  const absl::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (absl::StrContains(authority, '@')) {
    return absl::InvalidArgumentError(
        "URL must not contain credentials (user:password@)");
  }
  if (absl::StrContains(authority, '\\')) {
    return absl::InvalidArgumentError("URL host must not contain a backslash");
  }

  ParsedUrl out;
  out.port = scheme == "https" ? 443 : 80;
  absl::string_view host;
  std::optional<absl::string_view> port_text;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError("URL has an unterminated IPv6 address");
    }
    host = authority.substr(1, close - 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return absl::InvalidArgumentError("URL has junk after its IPv6 address");
      }
      port_text = after.substr(1);
    }
    if (absl::StrContains(host, '%')) {
      return absl::InvalidArgumentError("URL IPv6 zone ids are not supported");
    }
    out.literal = ParseV6(host);
    if (!out.literal.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("URL host [", host, "] is not a valid IPv6 address"));
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != absl::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (absl::StrContains(*port_text, ':')) {
        return absl::InvalidArgumentError(
            "URL IPv6 addresses must be in brackets, as in http://[2001:db8::1]/");
      }
    }
  }
  if (host.empty()) return absl::InvalidArgumentError("URL has no host");
  if (port_text.has_value()) {
    absl::StatusOr<uint16_t> port = ParsePort(*port_text);
    if (!port.ok()) return port.status();
    out.port = *port;
  }

  if (out.literal.has_value()) {
    out.host = IpToString(*out.literal);
    return out;
  }
  out.host = absl::AsciiStrToLower(host);
  uint32_t v4 = 0;
  switch (ParseV4Host(out.host, &v4)) {
    case V4Host::kAddress:
      out.literal = FromV4(v4);
      out.host = IpToString(*out.literal);
      return out;
    case V4Host::kInvalid:
      return absl::InvalidArgumentError(
          absl::StrCat("URL host \"", host, "\" is not a valid IPv4 address"));
    case V4Host::kName:
      break;
  }
  if (absl::Status s = ValidateHostName(out.host); !s.ok()) return s;
  return out;
}

ResolvedAddress ToResolved(const ParsedUrl& url, const Ip& ip) {
  return ResolvedAddress{url.host, url.port, IpToString(ip), ip.family};
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SystemResolve(const std::string& host) {
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
  if (rc != 0) {
    const std::string why = rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc);
    return absl::UnavailableError(absl::StrCat("cannot resolve ", host, ": ", why));
  }
  std::vector<std::string> out;
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (ai->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
    } else if (ai->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
    } else {
      continue;
    }
    out.emplace_back(buf);
  }
  freeaddrinfo(result);
  return out;
}

absl::StatusOr<std::vector<ResolvedAddress>> ResolveAndVet(absl::string_view url,
                                                           const SsrfPolicy& policy) {
  return ResolveAndVet(url, policy, SystemResolve);
}

absl::StatusOr<std::vector<ResolvedAddress>> ResolveAndVet(absl::string_view url,
                                                           const SsrfPolicy& policy,
                                                           const HostResolver& resolve) {
  absl::StatusOr<ParsedUrl> parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.status();

  if (parsed->literal.has_value()) {
    if (absl::Status s = Vet(*parsed->literal, "", policy); !s.ok()) return s;
    return std::vector<ResolvedAddress>{ToResolved(*parsed, *parsed->literal)};
  }

  if (std::optional<Kind> kind = SpecialName(parsed->host);
      kind.has_value() && Refused(*kind, policy)) {
    const absl::string_view what =
        *kind == Kind::kMetadata ? "a cloud metadata name" : "a loopback name";
    return absl::PermissionDeniedError(
        absl::StrCat("destination ", parsed->host, " is ", what, RefusalSuffix(*kind)));
  }

  absl::StatusOr<std::vector<std::string>> addresses = resolve(parsed->host);
  if (!addresses.ok()) return addresses.status();
  if (addresses->empty()) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", parsed->host, ": no addresses"));
  }
  std::vector<ResolvedAddress> out;
  for (const std::string& text : *addresses) {
    std::optional<Ip> ip = ParseCanonicalIp(text);
    if (!ip.has_value()) {
      return absl::InternalError(absl::StrCat("resolver returned \"", text, "\" for ",
                                              parsed->host, ", not an address"));
    }
    if (absl::Status s = Vet(*ip, parsed->host, policy); !s.ok()) return s;
    ResolvedAddress r = ToResolved(*parsed, *ip);
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(std::move(r));
  }
  return out;
}

absl::Status VetAddress(absl::string_view ip, const SsrfPolicy& policy) {
  if (absl::StrContains(ip, ':')) {
    std::optional<Ip> v6 = ParseV6(ip);
    if (!v6.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("\"", ip, "\" is not an IP address"));
    }
    return Vet(*v6, "", policy);
  }
  uint32_t v4 = 0;
  if (ip.empty() || ParseV4Host(absl::AsciiStrToLower(ip), &v4) != V4Host::kAddress) {
    return absl::InvalidArgumentError(absl::StrCat("\"", ip, "\" is not an IP address"));
  }
  return Vet(FromV4(v4), "", policy);
}

absl::Status VetSockaddr(const struct sockaddr* addr, const SsrfPolicy& policy) {
  if (addr == nullptr) {
    return absl::PermissionDeniedError("destination has no address");
  }
  Ip ip;
  if (addr->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(addr);
    ip.family = AF_INET;
    std::memcpy(ip.bytes.data(), &sin->sin_addr, 4);
  } else if (addr->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(addr);
    ip.family = AF_INET6;
    std::memcpy(ip.bytes.data(), &sin6->sin6_addr, 16);
  } else {
    return absl::PermissionDeniedError(absl::StrCat(
        "destination address family ", addr->sa_family, " is never allowed"));
  }
  return Vet(ip, "", policy);
}

std::string CurlResolveEntry(const std::vector<ResolvedAddress>& addrs) {
  if (addrs.empty() || addrs.front().host == addrs.front().ip) return "";
  std::vector<std::string> ips;
  ips.reserve(addrs.size());
  for (const ResolvedAddress& a : addrs) {
    ips.push_back(a.family == AF_INET6 ? absl::StrCat("[", a.ip, "]") : a.ip);
  }
  return absl::StrCat(addrs.front().host, ":", addrs.front().port, ":",
                      absl::StrJoin(ips, ","));
}

}  // namespace alerthub
