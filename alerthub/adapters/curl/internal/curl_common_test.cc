#include "alerthub/adapters/curl/internal/curl_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "absl/time/clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub::curl_internal {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

curl_sockaddr SockaddrV4(const char* ip) {
  curl_sockaddr a{};
  a.family = AF_INET;
  a.socktype = SOCK_STREAM;
  a.protocol = IPPROTO_TCP;
  auto* sin = reinterpret_cast<sockaddr_in*>(&a.addr);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(80);
  inet_pton(AF_INET, ip, &sin->sin_addr);
  a.addrlen = sizeof(sockaddr_in);
  return a;
}

TEST(VettedOpenSocketTest, OpensAllowedAddressesOnly) {
  const SsrfPolicy policy{};
  SocketGuard guard{&policy, absl::OkStatus()};
  curl_sockaddr public_addr = SockaddrV4("93.184.216.34");
  const curl_socket_t s = VettedOpenSocket(&guard, CURLSOCKTYPE_IPCXN, &public_addr);
  EXPECT_NE(s, CURL_SOCKET_BAD);
  if (s != CURL_SOCKET_BAD) close(s);
  EXPECT_OK(guard.refused);

  // What a DNS answer changed after vetting would connect to.
  curl_sockaddr metadata = SockaddrV4("169.254.169.254");
  EXPECT_EQ(VettedOpenSocket(&guard, CURLSOCKTYPE_IPCXN, &metadata), CURL_SOCKET_BAD);
  EXPECT_THAT(guard.refused, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("metadata")));
}

TEST(PinTest, PinsNamesAndLeavesLiteralsAlone) {
  const SsrfPolicy allow{.allow_private_networks = true};
  ASSERT_OK_AND_ASSIGN(std::vector<ResolvedAddress> named,
                       ResolveAndVet("HTTPS://Hooks.Example.com/x", allow, [](const std::string&) {
                         return std::vector<std::string>{"10.0.0.7", "fd00::7"};
                       }));
  const PinnedDestination pinned = Pin("HTTPS", named);
  EXPECT_EQ(pinned.origin, "https://hooks.example.com:443");
  EXPECT_THAT(pinned.resolve,
              ElementsAre("-hooks.example.com:443", "hooks.example.com:443:10.0.0.7,[fd00::7]"));

  ASSERT_OK_AND_ASSIGN(std::vector<ResolvedAddress> literal,
                       ResolveAndVet("http://[::1]:8080/", allow));
  const PinnedDestination direct = Pin("http", literal);
  EXPECT_EQ(direct.origin, "http://[::1]:8080");
  EXPECT_TRUE(direct.resolve.empty());
}

TEST(ParseUrlTest, ReadsWhatCurlWillUse) {
  ASSERT_OK_AND_ASSIGN(UrlParts smtp, ParseUrl("SMTP://mail.example.com", {"smtp", "smtps"}));
  EXPECT_EQ(smtp.scheme, "smtp");
  EXPECT_EQ(smtp.host, "mail.example.com");
  EXPECT_EQ(smtp.port, 25);
  EXPECT_FALSE(smtp.has_user_info);
  ASSERT_OK_AND_ASSIGN(UrlParts smtps, ParseUrl("smtps://u:p@[::1]/", {"smtp", "smtps"}));
  EXPECT_EQ(smtps.port, 465);
  EXPECT_EQ(smtps.host, "[::1]");
  EXPECT_TRUE(smtps.has_user_info);
  EXPECT_THAT(ParseUrl("http://example.com", {"smtp"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"http\"")));
  EXPECT_THAT(ParseUrl("::nonsense", {"smtp"}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(VetDestinationTest, RefusesPrivateDestinationsByDefault) {
  EXPECT_THAT(VetDestination("smtp", "127.0.0.1", 25, SsrfPolicy{}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_OK_AND_ASSIGN(PinnedDestination ok,
                       VetDestination("smtp", "127.0.0.1", 2525, {.allow_private_networks = true}));
  EXPECT_EQ(ok.origin, "smtp://127.0.0.1:2525");
}

TEST(StatusFromCurlTest, MapsToTheCodesTheRetryPolicyExpects) {
  const absl::Duration t = absl::Seconds(15);
  EXPECT_THAT(StatusFromCurl(CURLE_OPERATION_TIMEDOUT, "POST x", "", t),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("within 15s")));
  EXPECT_THAT(StatusFromCurl(CURLE_COULDNT_CONNECT, "POST x", "refused", t),
              StatusIs(absl::StatusCode::kUnavailable, "POST x: refused"));
  EXPECT_THAT(StatusFromCurl(CURLE_PEER_FAILED_VERIFICATION, "POST x", "", t),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(StatusFromCurl(CURLE_URL_MALFORMAT, "POST x", "", t),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(StatusFromCurl(CURLE_BAD_FUNCTION_ARGUMENT, "POST x", "", t),
              StatusIs(absl::StatusCode::kInternal));
}

TEST(EasyPoolTest, ReusesHandlesPerOriginAndBoundsTheInFlight) {
  EasyPool pool(/*max_in_flight_per_origin=*/1, /*max_idle=*/4);
  ASSERT_OK_AND_ASSIGN(CURL * a, pool.Acquire("http://a:80", absl::InfiniteFuture()));
  // Another origin is not held up.
  ASSERT_OK_AND_ASSIGN(CURL * b, pool.Acquire("http://b:80", absl::InfiniteFuture()));
  EXPECT_THAT(pool.Acquire("http://a:80", absl::Now() + absl::Milliseconds(50)),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("http://a:80")));

  // A waiter gets the slot, and the very handle, once it is released.
  std::thread release([&] {
    absl::SleepFor(absl::Milliseconds(50));
    pool.Release("http://a:80", a, /*reusable=*/true);
  });
  ASSERT_OK_AND_ASSIGN(CURL * again, pool.Acquire("http://a:80", absl::Now() + absl::Seconds(10)));
  release.join();
  EXPECT_EQ(again, a);
  pool.Release("http://a:80", again, true);
  pool.Release("http://b:80", b, /*reusable=*/false);
}

}  // namespace
}  // namespace alerthub::curl_internal
