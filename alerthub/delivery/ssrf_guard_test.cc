#include "alerthub/delivery/ssrf_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::IsOk;
using ::alerthub::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr SsrfPolicy kDefault{};
constexpr SsrfPolicy kPrivateAllowed{.allow_private_networks = true};

constexpr absl::string_view kPublicV6 = "2606:2800:220:1:248:1893:25c8:1946";

// A stand-in DNS: what each test name resolves to. Numeric hosts and the
// special names must never reach it, so it records what it was asked.
class FakeDns {
 public:
  HostResolver Resolver() {
    return [this](const std::string& host) -> absl::StatusOr<std::vector<std::string>> {
      asked_.push_back(host);
      auto it = zone_.find(host);
      if (it == zone_.end()) {
        return absl::UnavailableError(
            absl::StrCat("cannot resolve ", host, ": Name or service not known"));
      }
      return it->second;
    };
  }
  const std::vector<std::string>& asked() const { return asked_; }

 private:
  std::map<std::string, std::vector<std::string>> zone_ = {
      {"hooks.example.com", {"93.184.216.34", std::string(kPublicV6)}},
      {"hooks.example.com.", {"93.184.216.34"}},
      {"internal.example.com", {"10.1.2.3"}},
      {"mixed.example.com", {"93.184.216.34", "192.168.1.10"}},
      {"rebind.example.com", {"::ffff:169.254.169.254"}},
      {"dup.example.com", {"93.184.216.34", "93.184.216.34", "8.8.8.8"}},
      {"broken.example.com", {"not-an-address"}},
      {"empty.example.com", {}},
      {"localhost", {"127.0.0.1", "::1"}},
      {"localhost.", {"127.0.0.1"}},
      {"app.localhost", {"127.0.0.1"}},
  };
  std::vector<std::string> asked_;
};

enum class Outcome { kAllowed, kRefused, kInvalid, kUnavailable };

std::ostream& operator<<(std::ostream& os, Outcome o) {
  switch (o) {
    case Outcome::kAllowed:
      return os << "allowed";
    case Outcome::kRefused:
      return os << "refused";
    case Outcome::kInvalid:
      return os << "invalid";
    case Outcome::kUnavailable:
      return os << "unavailable";
  }
  return os;
}

Outcome OutcomeOf(const absl::StatusOr<std::vector<ResolvedAddress>>& r) {
  if (r.ok()) return Outcome::kAllowed;
  switch (r.status().code()) {
    case absl::StatusCode::kPermissionDenied:
      return Outcome::kRefused;
    case absl::StatusCode::kInvalidArgument:
      return Outcome::kInvalid;
    case absl::StatusCode::kUnavailable:
      return Outcome::kUnavailable;
    default:
      ADD_FAILURE() << "unexpected status " << r.status();
      return Outcome::kInvalid;
  }
}

// "ip,ip" when allowed, else the status message.
std::string DetailOf(const absl::StatusOr<std::vector<ResolvedAddress>>& r) {
  if (!r.ok()) return std::string(r.status().message());
  return absl::StrJoin(*r, ",", [](std::string* out, const ResolvedAddress& a) {
    out->append(a.ip);
  });
}

struct Row {
  std::string url;
  Outcome by_default;
  Outcome with_private;
  // Under the default policy: the addresses ("ip,ip") when allowed, else the
  // exact error message.
  std::string detail;
};

constexpr Outcome kAllowed = Outcome::kAllowed;
constexpr Outcome kRefused = Outcome::kRefused;
constexpr Outcome kInvalid = Outcome::kInvalid;
constexpr Outcome kUnavailable = Outcome::kUnavailable;

const std::string kAllow = "; set --allow_private_networks to allow it";
const std::string kNever = ", which is never allowed";

std::vector<Row> Table() {
  return {
      // Public destinations, in every spelling.
      {"https://hooks.example.com/webhook", kAllowed, kAllowed,
       absl::StrCat("93.184.216.34,", kPublicV6)},
      {"HTTPS://HOOKS.Example.COM:8443/x?y#z", kAllowed, kAllowed,
       absl::StrCat("93.184.216.34,", kPublicV6)},
      {"https://hooks.example.com./", kAllowed, kAllowed, "93.184.216.34"},
      {"http://93.184.216.34/", kAllowed, kAllowed, "93.184.216.34"},
      {"http://1572395042/", kAllowed, kAllowed, "93.184.216.34"},
      {"http://0x5db8d822/", kAllowed, kAllowed, "93.184.216.34"},
      {"http://8.8.8.8:65535", kAllowed, kAllowed, "8.8.8.8"},
      {"http://172.32.0.1/", kAllowed, kAllowed, "172.32.0.1"},
      {"http://100.128.0.1/", kAllowed, kAllowed, "100.128.0.1"},
      {absl::StrCat("http://[", kPublicV6, "]:8443/"), kAllowed, kAllowed,
       std::string(kPublicV6)},
      {"http://[::ffff:93.184.216.34]/", kAllowed, kAllowed, "::ffff:93.184.216.34"},
      {"http://[2002:5db8:d822::1]/", kAllowed, kAllowed, "2002:5db8:d822::1"},
      {"http://[64:ff9b::5db8:d822]/", kAllowed, kAllowed, "64:ff9b::5db8:d822"},

      // Loopback.
      {"http://127.0.0.1/", kRefused, kAllowed,
       "destination 127.0.0.1 is a loopback address" + kAllow},
      {"http://127.1/", kRefused, kAllowed,
       "destination 127.0.0.1 is a loopback address" + kAllow},
      {"http://2130706433/", kRefused, kAllowed,
       "destination 127.0.0.1 is a loopback address" + kAllow},
      {"http://0x7f000001/", kRefused, kAllowed,
       "destination 127.0.0.1 is a loopback address" + kAllow},
      {"http://0X7F.0.0.1/", kRefused, kAllowed,
       "destination 127.0.0.1 is a loopback address" + kAllow},
      {"http://0177.0.0.1/", kRefused, kAllowed,
       "destination 127.0.0.1 is a loopback address" + kAllow},
      {"http://0177.1:8080/", kRefused, kAllowed,
       "destination 127.0.0.1 is a loopback address" + kAllow},
      {"http://127.0.0.1./", kRefused, kAllowed,
       "destination 127.0.0.1 is a loopback address" + kAllow},
      {"http://127.255.255.254/", kRefused, kAllowed,
       "destination 127.255.255.254 is a loopback address" + kAllow},
      {"http://[::1]:8080/", kRefused, kAllowed,
       "destination ::1 is a loopback address" + kAllow},
      {"http://[::ffff:127.0.0.1]/", kRefused, kAllowed,
       "destination ::ffff:127.0.0.1 embeds 127.0.0.1, a loopback address" + kAllow},
      {"http://[::FFFF:7f00:1]/", kRefused, kAllowed,
       "destination ::ffff:127.0.0.1 embeds 127.0.0.1, a loopback address" + kAllow},
      {"http://[::127.0.0.1]/", kRefused, kAllowed,
       "destination ::127.0.0.1 embeds 127.0.0.1, a loopback address" + kAllow},
      {"http://[2002:7f00:1::]/", kRefused, kAllowed,
       "destination 2002:7f00:1:: embeds 127.0.0.1, a loopback address" + kAllow},
      {"http://[64:ff9b::127.0.0.1]/", kRefused, kAllowed,
       "destination 64:ff9b::7f00:1 embeds 127.0.0.1, a loopback address" + kAllow},
      {"http://localhost:8080/", kRefused, kAllowed,
       "destination localhost is a loopback name" + kAllow},
      {"http://LOCALHOST./", kRefused, kAllowed,
       "destination localhost. is a loopback name" + kAllow},
      {"http://app.localhost/", kRefused, kAllowed,
       "destination app.localhost is a loopback name" + kAllow},

      // Private networks.
      {"http://10.0.0.5/", kRefused, kAllowed,
       "destination 10.0.0.5 is a private address" + kAllow},
      {"http://012.0.0.5/", kRefused, kAllowed,
       "destination 10.0.0.5 is a private address" + kAllow},
      {"http://172.16.0.1/", kRefused, kAllowed,
       "destination 172.16.0.1 is a private address" + kAllow},
      {"http://172.31.255.255/", kRefused, kAllowed,
       "destination 172.31.255.255 is a private address" + kAllow},
      {"http://192.168.1.1/", kRefused, kAllowed,
       "destination 192.168.1.1 is a private address" + kAllow},
      {"http://100.64.0.1/", kRefused, kAllowed,
       "destination 100.64.0.1 is a shared (carrier-grade NAT) address" + kAllow},
      {"http://[fd12:3456::1]/", kRefused, kAllowed,
       "destination fd12:3456::1 is a private address" + kAllow},
      {"http://[fec0::1]/", kRefused, kAllowed,
       "destination fec0::1 is a site-local address" + kAllow},
      {"http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/", kRefused, kAllowed,
       "destination 2001:0:4136:e378:8000:63bf:f5ff:fffe embeds 10.0.0.1, a "
       "private address" + kAllow},
      {"https://internal.example.com/", kRefused, kAllowed,
       "destination internal.example.com resolves to 10.1.2.3, a private address" +
           kAllow},
      {"https://mixed.example.com/", kRefused, kAllowed,
       "destination mixed.example.com resolves to 192.168.1.10, a private address" +
           kAllow},

      // Link-local and cloud metadata.
      {"http://169.254.1.1/", kRefused, kAllowed,
       "destination 169.254.1.1 is a link-local address" + kAllow},
      {"http://[fe80::1]/", kRefused, kAllowed,
       "destination fe80::1 is a link-local address" + kAllow},
      {"http://169.254.169.254/latest/meta-data/", kRefused, kRefused,
       "destination 169.254.169.254 is a cloud metadata address" + kNever},
      {"http://0xa9fea9fe/", kRefused, kRefused,
       "destination 169.254.169.254 is a cloud metadata address" + kNever},
      {"http://2852039166/", kRefused, kRefused,
       "destination 169.254.169.254 is a cloud metadata address" + kNever},
      {"http://[::ffff:169.254.169.254]/", kRefused, kRefused,
       "destination ::ffff:169.254.169.254 embeds 169.254.169.254, a cloud "
       "metadata address" + kNever},
      {"http://[fd00:ec2::254]/", kRefused, kRefused,
       "destination fd00:ec2::254 is a cloud metadata address" + kNever},
      {"http://100.100.100.200/", kRefused, kRefused,
       "destination 100.100.100.200 is a cloud metadata address" + kNever},
      {"http://metadata.google.internal/computeMetadata/v1/", kRefused, kRefused,
       "destination metadata.google.internal is a cloud metadata name" + kNever},
      {"https://rebind.example.com/", kRefused, kRefused,
       "destination rebind.example.com resolves to ::ffff:169.254.169.254, which "
       "embeds 169.254.169.254, a cloud metadata address" + kNever},

      // Never allowed, whatever the policy.
      {"http://0.0.0.0/", kRefused, kRefused,
       "destination 0.0.0.0 is an unspecified address" + kNever},
      {"http://0/", kRefused, kRefused,
       "destination 0.0.0.0 is an unspecified address" + kNever},
      {"http://[::]/", kRefused, kRefused,
       "destination :: is an unspecified address" + kNever},
      {"http://224.0.0.1/", kRefused, kRefused,
       "destination 224.0.0.1 is a multicast address" + kNever},
      {"http://[ff02::1]/", kRefused, kRefused,
       "destination ff02::1 is a multicast address" + kNever},
      {"http://240.0.0.1/", kRefused, kRefused,
       "destination 240.0.0.1 is a reserved address" + kNever},
      {"http://255.255.255.255/", kRefused, kRefused,
       "destination 255.255.255.255 is the broadcast address" + kNever},
      {"http://198.18.0.1/", kRefused, kRefused,
       "destination 198.18.0.1 is a benchmarking address" + kNever},
      {"http://192.0.2.10/", kRefused, kRefused,
       "destination 192.0.2.10 is a documentation address" + kNever},
      {"http://203.0.113.7/", kRefused, kRefused,
       "destination 203.0.113.7 is a documentation address" + kNever},
      {"http://[2001:db8::1]/", kRefused, kRefused,
       "destination 2001:db8::1 is a documentation address" + kNever},
      {"http://192.0.0.170/", kRefused, kRefused,
       "destination 192.0.0.170 is an IETF protocol assignment address" + kNever},
      {"http://[100::1]/", kRefused, kRefused,
       "destination 100::1 is a discard-only address" + kNever},
      {"http://[1::1]/", kRefused, kRefused,
       "destination 1::1 is an address outside global unicast space (2000::/3)" +
           kNever},
      {"http://[::ffff:224.0.0.1]/", kRefused, kRefused,
       "destination ::ffff:224.0.0.1 embeds 224.0.0.1, a multicast address" + kNever},

      // Not an acceptable URL at all.
      {"ftp://hooks.example.com/", kInvalid, kInvalid,
       "URL scheme \"ftp\" is not allowed; use http or https"},
      {"file:///etc/passwd", kInvalid, kInvalid,
       "URL scheme \"file\" is not allowed; use http or https"},
      {"gopher://127.0.0.1:6379/_INFO", kInvalid, kInvalid,
       "URL scheme \"gopher\" is not allowed; use http or https"},
      {"hooks.example.com/webhook", kInvalid, kInvalid,
       "URL must be an absolute http:// or https:// URL"},
      {"http://user:pass@hooks.example.com/", kInvalid, kInvalid,
       "URL must not contain credentials (user:password@)"},
      {"http://hooks.example.com@127.0.0.1/", kInvalid, kInvalid,
       "URL must not contain credentials (user:password@)"},
      {"http:///webhook", kInvalid, kInvalid, "URL has no host"},
      {"http://:8080/", kInvalid, kInvalid, "URL has no host"},
      {"http://1.2.3.4.5/", kInvalid, kInvalid,
       "URL host \"1.2.3.4.5\" is not a valid IPv4 address"},
      {"http://256.0.0.1/", kInvalid, kInvalid,
       "URL host \"256.0.0.1\" is not a valid IPv4 address"},
      {"http://08.0.0.1/", kInvalid, kInvalid,
       "URL host \"08.0.0.1\" is not a valid IPv4 address"},
      {"http://4294967296/", kInvalid, kInvalid,
       "URL host \"4294967296\" is not a valid IPv4 address"},
      {"http://[fe80::1%25eth0]/", kInvalid, kInvalid,
       "URL IPv6 zone ids are not supported"},
      {"http://[::1/", kInvalid, kInvalid, "URL has an unterminated IPv6 address"},
      {"http://::1/", kInvalid, kInvalid,
       "URL IPv6 addresses must be in brackets, as in http://[2001:db8::1]/"},
      {"http://hooks.example.com:0/", kInvalid, kInvalid,
       "URL port \"0\" must be a number from 1 to 65535"},
      {"http://hooks.example.com:65536/", kInvalid, kInvalid,
       "URL port \"65536\" must be a number from 1 to 65535"},
      {"http://hooks.example.com:/", kInvalid, kInvalid,
       "URL port \"\" must be a number from 1 to 65535"},
      {"http://hooks example.com/", kInvalid, kInvalid,
       "URL must not contain spaces or control characters"},
      {"http://exa%6dple.com/", kInvalid, kInvalid,
       "URL host \"exa%6dple.com\" is not a valid host name"},
      {"http://hooks.example.com\\@127.0.0.1/", kInvalid, kInvalid,
       "URL must not contain credentials (user:password@)"},
      {"http://b\xc3\xbc" "cher.example/", kInvalid, kInvalid,
       "URL host must be ASCII; write international names in their xn-- form"},

      // Resolution failures are worth retrying.
      {"https://nxdomain.example.com/", kUnavailable, kUnavailable,
       "cannot resolve nxdomain.example.com: Name or service not known"},
      {"https://empty.example.com/", kUnavailable, kUnavailable,
       "cannot resolve empty.example.com: no addresses"},
  };
}

TEST(SsrfGuardTest, Table) {
  const std::vector<Row> table = Table();
  ASSERT_GE(table.size(), 40u);
  for (const Row& row : table) {
    SCOPED_TRACE(row.url);
    FakeDns dns;
    absl::StatusOr<std::vector<ResolvedAddress>> by_default =
        ResolveAndVet(row.url, kDefault, dns.Resolver());
    EXPECT_EQ(OutcomeOf(by_default), row.by_default) << by_default.status();
    EXPECT_EQ(DetailOf(by_default), row.detail);

    absl::StatusOr<std::vector<ResolvedAddress>> with_private =
        ResolveAndVet(row.url, kPrivateAllowed, dns.Resolver());
    EXPECT_EQ(OutcomeOf(with_private), row.with_private) << with_private.status();
    if (row.by_default == kAllowed) {
      EXPECT_EQ(DetailOf(with_private), row.detail);
    }
    if (row.by_default == kRefused && row.with_private == kRefused) {
      // Never-allowed destinations give the same reason under both policies.
      EXPECT_EQ(with_private.status().message(), row.detail);
    }
  }
}

TEST(SsrfGuardTest, DefaultPolicyRefusesLoopbackThroughTheSystemResolver) {
  for (absl::string_view url : {"http://localhost:8080/hook", "http://127.0.0.1:8080/hook",
                                "http://[::1]:8080/hook", "http://2130706433:8080/"}) {
    EXPECT_THAT(ResolveAndVet(url, SsrfPolicy{}),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << url;
  }
  EXPECT_THAT(VetAddress("127.0.0.1", SsrfPolicy{}),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "destination 127.0.0.1 is a loopback address; set "
                       "--allow_private_networks to allow it"));
}

TEST(SsrfGuardTest, AllowPrivateNetworksResolvesLocalhostForReal) {
  absl::StatusOr<std::vector<ResolvedAddress>> addrs =
      ResolveAndVet("http://localhost:8080/hook", kPrivateAllowed);
  ASSERT_THAT(addrs, IsOk());
  EXPECT_THAT(*addrs, Contains(ResolvedAddress{"localhost", 8080, "127.0.0.1", AF_INET}));
  for (const ResolvedAddress& a : *addrs) {
    EXPECT_TRUE(a.ip == "127.0.0.1" || a.ip == "::1") << a.ip;
  }
}

TEST(SsrfGuardTest, NumericHostsAndSpecialNamesNeverReachTheResolver) {
  FakeDns dns;
  for (absl::string_view url :
       {"http://127.1/", "http://0x5db8d822/", "http://[::1]/", "http://localhost/",
        "http://metadata.google.internal/", "http://1.2.3.4.5/"}) {
    (void)ResolveAndVet(url, kDefault, dns.Resolver());
  }
  EXPECT_THAT(dns.asked(), IsEmpty());
  // With private networks allowed, localhost is resolved (and its addresses
  // vetted); metadata.google.internal still is not.
  (void)ResolveAndVet("http://localhost/", kPrivateAllowed, dns.Resolver());
  (void)ResolveAndVet("http://metadata.google.internal/", kPrivateAllowed, dns.Resolver());
  EXPECT_THAT(dns.asked(), ElementsAre("localhost"));
}

TEST(SsrfGuardTest, ResultCarriesHostPortAndFamilyWithoutDuplicates) {
  FakeDns dns;
  absl::StatusOr<std::vector<ResolvedAddress>> addrs =
      ResolveAndVet("https://hooks.example.com/x", kDefault, dns.Resolver());
  ASSERT_THAT(addrs, IsOk());
  EXPECT_THAT(*addrs,
              ElementsAre(ResolvedAddress{"hooks.example.com", 443, "93.184.216.34", AF_INET},
                          ResolvedAddress{"hooks.example.com", 443,
                                          std::string(kPublicV6), AF_INET6}));
  addrs = ResolveAndVet("http://dup.example.com:8080/", kDefault, dns.Resolver());
  ASSERT_THAT(addrs, IsOk());
  EXPECT_THAT(*addrs,
              ElementsAre(ResolvedAddress{"dup.example.com", 8080, "93.184.216.34", AF_INET},
                          ResolvedAddress{"dup.example.com", 8080, "8.8.8.8", AF_INET}));
  addrs = ResolveAndVet("http://0x5db8d822/", kDefault, dns.Resolver());
  ASSERT_THAT(addrs, IsOk());
  EXPECT_THAT(*addrs,
              ElementsAre(ResolvedAddress{"93.184.216.34", 80, "93.184.216.34", AF_INET}));
}

TEST(SsrfGuardTest, ResolverReturningGarbageIsAnInternalError) {
  FakeDns dns;
  EXPECT_THAT(ResolveAndVet("http://broken.example.com/", kDefault, dns.Resolver()),
              StatusIs(absl::StatusCode::kInternal,
                       "resolver returned \"not-an-address\" for broken.example.com, "
                       "not an address"));
}

TEST(CurlResolveEntryTest, PinsNamesToTheVettedAddresses) {
  FakeDns dns;
  absl::StatusOr<std::vector<ResolvedAddress>> addrs =
      ResolveAndVet("https://hooks.example.com/x", kDefault, dns.Resolver());
  ASSERT_THAT(addrs, IsOk());
  EXPECT_EQ(CurlResolveEntry(*addrs),
            absl::StrCat("hooks.example.com:443:93.184.216.34,[", kPublicV6, "]"));
}

TEST(CurlResolveEntryTest, IsEmptyForLiteralsAndNoAddresses) {
  FakeDns dns;
  absl::StatusOr<std::vector<ResolvedAddress>> v4 =
      ResolveAndVet("http://93.184.216.34:8080/", kDefault, dns.Resolver());
  ASSERT_THAT(v4, IsOk());
  EXPECT_EQ(CurlResolveEntry(*v4), "");
  absl::StatusOr<std::vector<ResolvedAddress>> v6 =
      ResolveAndVet(absl::StrCat("http://[", kPublicV6, "]/"), kDefault, dns.Resolver());
  ASSERT_THAT(v6, IsOk());
  EXPECT_EQ(CurlResolveEntry(*v6), "");
  EXPECT_EQ(CurlResolveEntry({}), "");
}

TEST(VetAddressTest, AcceptsEveryNumericSpelling) {
  EXPECT_OK(VetAddress("93.184.216.34", kDefault));
  EXPECT_OK(VetAddress(kPublicV6, kDefault));
  EXPECT_THAT(VetAddress("0177.0.0.1", kDefault),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "destination 127.0.0.1 is a loopback address" + kAllow));
  EXPECT_OK(VetAddress("0177.0.0.1", kPrivateAllowed));
  EXPECT_THAT(VetAddress("169.254.169.254", kPrivateAllowed),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "destination 169.254.169.254 is a cloud metadata address" + kNever));
  for (absl::string_view bad : {"", "example.com", "1.2.3.4.5", "::g", "[::1]"}) {
    EXPECT_THAT(VetAddress(bad, kDefault), StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST(VetSockaddrTest, VetsTheAddressOfASocketAboutToConnect) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  ASSERT_EQ(inet_pton(AF_INET, "10.9.8.7", &v4.sin_addr), 1);
  EXPECT_THAT(VetSockaddr(reinterpret_cast<sockaddr*>(&v4), kDefault),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "destination 10.9.8.7 is a private address" + kAllow));
  EXPECT_OK(VetSockaddr(reinterpret_cast<sockaddr*>(&v4), kPrivateAllowed));

  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:169.254.169.254", &v6.sin6_addr), 1);
  EXPECT_THAT(VetSockaddr(reinterpret_cast<sockaddr*>(&v6), kPrivateAllowed),
              StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_EQ(inet_pton(AF_INET6, std::string(kPublicV6).c_str(), &v6.sin6_addr), 1);
  EXPECT_OK(VetSockaddr(reinterpret_cast<sockaddr*>(&v6), kDefault));

  sockaddr_un unix_socket{};
  unix_socket.sun_family = AF_UNIX;
  EXPECT_THAT(VetSockaddr(reinterpret_cast<sockaddr*>(&unix_socket), kPrivateAllowed),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "destination address family 1 is never allowed"));
  EXPECT_THAT(VetSockaddr(nullptr, kPrivateAllowed),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace alerthub
