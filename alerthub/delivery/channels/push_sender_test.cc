#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "alerthub/delivery/channels/testing/channel_fixture.h"
#include "alerthub/testing/fake_http_server.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::testing::AttemptFixture;
using ::alerthub::testing::FakeHttpServer;
using ::alerthub::testing::FakeResponse;
using ::alerthub::testing::LoopbackAllowed;
using ::alerthub::testing::MakeFixture;
using ::alerthub::testing::RecordedRequest;
using ::alerthub::testing::Respond;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::SizeIs;
using Json = nlohmann::json;

constexpr char kProject[] = "alerthub-test";
constexpr char kClientEmail[] = "alerthub@alerthub-test.iam.gserviceaccount.com";
constexpr char kScope[] = "https://www.googleapis.com/auth/firebase.messaging";

// A fresh 2048-bit RSA key, PKCS#8 PEM (as Google's key files hold it).
struct RsaKey {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, &EVP_PKEY_free};
  std::string pem;
};

RsaKey GenerateKey() {
  RsaKey k;
  k.key.reset(EVP_RSA_gen(2048));
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), k.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  k.pem.assign(data, static_cast<size_t>(n));
  return k;
}

bool VerifyRs256(EVP_PKEY* key, absl::string_view signed_part, absl::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  return EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
         EVP_DigestVerify(
             ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
             reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
}

std::string FormValue(absl::string_view form, absl::string_view name) {
  for (absl::string_view pair : absl::StrSplit(form, '&')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.first == name) return std::string(kv.second);
  }
  return "";
}

FakeResponse JsonAnswer(int status, const Json& body, HttpHeaders headers = {}) {
  headers.emplace_back("Content-Type", "application/json; charset=UTF-8");
  return Respond(status, body.dump(), std::move(headers));
}

FakeResponse FcmError(int status, absl::string_view google_status, absl::string_view fcm_code,
                      absl::string_view message, HttpHeaders headers = {}) {
  Json error = {{"code", status}, {"message", message}, {"status", google_status}};
  if (!fcm_code.empty()) {
    error["details"] = {{{"@type", "type.googleapis.com/google.firebase.fcm.v1.FcmError"},
                         {"errorCode", fcm_code}}};
  }
  return JsonAnswer(status, {{"error", error}}, std::move(headers));
}

// Google's OAuth token endpoint and FCM HTTP v1, as documented.
//
// POST /token (application/x-www-form-urlencoded) grant_type=
// urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>: the JWT must
// be RS256-signed by the service account's key, with iss = its
// client_email, the scope, aud = the token URL, exp = iat + 1 h and iat near
// now; {"access_token", "expires_in": 3599, "token_type": "Bearer"}, else
// 400 {"error": "invalid_grant", "error_description"}.
//
// POST /v1/projects/{project}/messages:send with the bearer token: 200
// {"name"}; 401 UNAUTHENTICATED for an unknown or revoked token; 403
// PERMISSION_DENIED for another project; by device token prefix: 404
// UNREGISTERED, 400 INVALID_ARGUMENT, 429 QUOTA_EXCEEDED (Retry-After), 503
// UNAVAILABLE, 401 THIRD_PARTY_AUTH_ERROR (APNs credentials).
class FakeGoogle {
 public:
  FakeGoogle(EVP_PKEY* key, const Clock* clock) : key_(key), clock_(clock) {}

  void set_token_url(std::string url) { token_url_ = std::move(url); }
  void set_token_endpoint_down(bool down) {
    absl::MutexLock lock(&mu_);
    token_endpoint_down_ = down;
  }
  void RevokeAllTokens() {
    absl::MutexLock lock(&mu_);
    valid_tokens_.clear();
  }
  int token_requests() const {
    absl::MutexLock lock(&mu_);
    return token_requests_;
  }
  std::vector<std::string> rejected_assertions() const {
    absl::MutexLock lock(&mu_);
    return rejected_assertions_;
  }

  FakeResponse Handle(const RecordedRequest& r) {
    if (r.Path() == "/token") return Token(r);
    if (absl::StartsWith(r.Path(), "/v1/projects/")) return Send(r);
    return Respond(404, "not found");
  }

 private:
  FakeResponse Token(const RecordedRequest& r) {
    absl::MutexLock lock(&mu_);
    ++token_requests_;
    if (token_endpoint_down_) return Respond(503, "Service Unavailable");
    auto refuse = [&](absl::string_view why) {
      rejected_assertions_.emplace_back(why);
      return JsonAnswer(400, {{"error", "invalid_grant"}, {"error_description", why}});
    };
    if (r.Header("Content-Type") != "application/x-www-form-urlencoded") {
      return refuse("wrong content type");
    }
    if (FormValue(r.body, "grant_type") !=
        "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer") {
      return JsonAnswer(
          400, {{"error", "unsupported_grant_type"}, {"error_description", "Invalid grant_type"}});
    }
    const std::vector<std::string> parts = absl::StrSplit(FormValue(r.body, "assertion"), '.');
    std::string header_text, claims_text, signature;
    if (parts.size() != 3 || !absl::WebSafeBase64Unescape(parts[0], &header_text) ||
        !absl::WebSafeBase64Unescape(parts[1], &claims_text) ||
        !absl::WebSafeBase64Unescape(parts[2], &signature)) {
      return refuse("Invalid JWT: not three base64url parts");
    }
    if (!VerifyRs256(key_, absl::StrCat(parts[0], ".", parts[1]), signature)) {
      return refuse("Invalid JWT Signature.");
    }
    const Json header = Json::parse(header_text, nullptr, false);
    const Json claims = Json::parse(claims_text, nullptr, false);
    if (header.value("alg", "") != "RS256" || header.value("typ", "") != "JWT" ||
        header.value("kid", "") != "key-1") {
      return refuse("bad JWT header");
    }
    if (claims.value("iss", "") != kClientEmail) return refuse("Invalid JWT: unknown issuer");
    if (claims.value("scope", "") != kScope) return refuse("Invalid JWT: wrong scope");
    if (claims.value("aud", "") != token_url_) return refuse("Invalid JWT: wrong audience");
    const int64_t iat = claims.value("iat", int64_t{0});
    const int64_t exp = claims.value("exp", int64_t{0});
    const int64_t now = absl::ToUnixSeconds(clock_->Now());
    if (exp - iat != 3600 || iat < now - 300 || iat > now + 300) {
      return refuse(
          "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
          "timeframe.");
    }
    const std::string token = absl::StrCat("ya29.test-token-", token_requests_);
    valid_tokens_.insert(token);
    return JsonAnswer(200,
                      {{"access_token", token}, {"expires_in", 3599}, {"token_type", "Bearer"}});
  }

  FakeResponse Send(const RecordedRequest& r) {
    {
      absl::MutexLock lock(&mu_);
      const std::string auth = r.Header("Authorization");
      if (!absl::StartsWith(auth, "Bearer ") || !valid_tokens_.contains(auth.substr(7))) {
        return FcmError(401, "UNAUTHENTICATED", "",
                        "Request had invalid authentication credentials. Expected OAuth 2 "
                        "access token.");
      }
    }
    if (r.Path() != absl::StrCat("/v1/projects/", kProject, "/messages:send")) {
      return FcmError(403, "PERMISSION_DENIED", "",
                      "Permission 'cloudmessaging.messages.create' denied on resource");
    }
    const Json body = Json::parse(r.body, nullptr, false);
    const std::string token = body.is_object() ? body["message"].value("token", "") : "";
    if (absl::StartsWith(token, "unregistered")) {
      return FcmError(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.");
    }
    if (absl::StartsWith(token, "invalid") || token.empty()) {
      return FcmError(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
                      "The registration token is not a valid FCM registration token");
    }
    if (absl::StartsWith(token, "quota")) {
      return FcmError(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED",
                      "Quota exceeded for quota metric 'Send requests'", {{"Retry-After", "30"}});
    }
    if (absl::StartsWith(token, "unavailable")) {
      return FcmError(503, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable.");
    }
    if (absl::StartsWith(token, "apns-bad")) {
      return FcmError(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR",
                      "Auth error from APNS or Web Push Service");
    }
    return JsonAnswer(200,
                      {{"name", absl::StrCat("projects/", kProject,
                                             "/messages/0:1500415314455276%31bd1c9631bd1c96")}});
  }

  EVP_PKEY* const key_;
  const Clock* const clock_;
  std::string token_url_;
  mutable absl::Mutex mu_;
  bool token_endpoint_down_ ABSL_GUARDED_BY(mu_) = false;
  int token_requests_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::string> valid_tokens_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> rejected_assertions_ ABSL_GUARDED_BY(mu_);
};

class PushSenderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { key_ = new RsaKey(GenerateKey()); }
  static void TearDownTestSuite() { delete key_; }

  void SetUp() override {
    clock_.Set(absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now())));
    google_ = std::make_unique<FakeGoogle>(key_->key.get(), &clock_);
    ASSERT_OK_AND_ASSIGN(server_, FakeHttpServer::Start([this](const RecordedRequest& r) {
                           return google_->Handle(r);
                         }));
    google_->set_token_url(server_->Url("/token"));
    ChannelOptions options;
    options.clock = &clock_;
    options.fcm_base_url = server_->Url("");
    // fcm_token_url stays empty: the service account's token_uri is used.
    sender_ = NewPushSender(options, http_.get());
  }

  Json ServiceAccount() const {
    return {{"type", "service_account"},          {"project_id", kProject},
            {"private_key_id", "key-1"},          {"private_key", key_->pem},
            {"client_email", kClientEmail},       {"client_id", "1234567890"},
            {"token_uri", server_->Url("/token")}};
  }

  AttemptFixture Fixture(std::vector<std::string> tokens) const {
    return MakeFixture(Channel::kPush, {{"service_account", ServiceAccount()}, {"tokens", tokens}},
                       PushMessage{"v2 is live", "All green ✅"});
  }

  std::vector<RecordedRequest> FcmRequests() const {
    std::vector<RecordedRequest> out;
    for (const RecordedRequest& r : server_->requests()) {
      if (r.Path() != "/token") out.push_back(r);
    }
    return out;
  }

  static RsaKey* key_;
  SimulatedClock clock_;
  std::unique_ptr<FakeGoogle> google_;
  std::unique_ptr<HttpClient> http_ = NewCurlHttpClient(LoopbackAllowed());
  std::unique_ptr<FakeHttpServer> server_;
  std::unique_ptr<ChannelSender> sender_;
};

RsaKey* PushSenderTest::key_ = nullptr;

TEST_F(PushSenderTest, SendsToEveryTokenWithOneAccessToken) {
  const AttemptFixture f = Fixture({"device-a", "device-b", "device-c-0123456789"});
  SendResult r = sender_->Send(f.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kSuccess) << r.error;
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.error, "");
  ASSERT_THAT(r.targets, SizeIs(3));
  EXPECT_EQ(r.targets[2].target, "…23456789");
  for (const TargetResult& t : r.targets) {
    EXPECT_EQ(t.outcome, AttemptOutcome::kSuccess);
    EXPECT_EQ(t.code, 200);
  }
  EXPECT_THAT(google_->rejected_assertions(), ::testing::IsEmpty());
  EXPECT_EQ(google_->token_requests(), 1);

  const std::vector<RecordedRequest> sent = FcmRequests();
  ASSERT_THAT(sent, SizeIs(3));
  EXPECT_EQ(sent[0].target, "/v1/projects/alerthub-test/messages:send");
  EXPECT_EQ(sent[0].Header("Authorization"), "Bearer ya29.test-token-1");
  EXPECT_EQ(sent[0].Header("Content-Type"), "application/json; charset=utf-8");
  const Json message = Json::parse(sent[1].body)["message"];
  EXPECT_EQ(message["token"], "device-b");
  EXPECT_EQ(message["notification"], Json({{"title", "v2 is live"}, {"body", "All green ✅"}}));
  EXPECT_EQ(message["data"], Json({{"notification_id", f.notification.id},
                                   {"delivery_id", f.delivery.id},
                                   {"type", "deploy.finished"},
                                   {"priority", "high"}}));
  EXPECT_EQ(message["android"], Json({{"collapse_key", f.delivery.id}, {"priority", "HIGH"}}));
  EXPECT_EQ(message["apns"]["headers"]["apns-collapse-id"], f.delivery.id);
}

// A delivery to one recipient goes to their devices instead of config.tokens.
TEST_F(PushSenderTest, ARecipientsDevicesReplaceTheConfiguredTokens) {
  const AttemptFixture f = Fixture({"device-a"});
  User ada;
  ada.id = "user-ada";
  ada.addresses.fcm_tokens = {"ada-phone", "ada-tablet"};
  SendAttempt a = f.Attempt();
  a.recipient = &ada;
  SendResult r = sender_->Send(a);
  ASSERT_EQ(r.outcome, AttemptOutcome::kSuccess) << r.error;
  const std::vector<RecordedRequest> sent = FcmRequests();
  ASSERT_THAT(sent, SizeIs(2));
  EXPECT_EQ(Json::parse(sent[0].body)["message"]["token"], "ada-phone");
  EXPECT_EQ(Json::parse(sent[1].body)["message"]["token"], "ada-tablet");

  User bob;
  bob.id = "user-bob";
  a.recipient = &bob;
  r = sender_->Send(a);
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.error, "recipient user-bob has no push device token (addresses.fcm_tokens)");
  EXPECT_THAT(FcmRequests(), SizeIs(2));
}

TEST_F(PushSenderTest, CachesTheAccessTokenUntilShortlyBeforeItExpires) {
  const AttemptFixture f = Fixture({"device-a"});
  ASSERT_EQ(sender_->Send(f.Attempt()).outcome, AttemptOutcome::kSuccess);
  ASSERT_EQ(sender_->Send(f.Attempt()).outcome, AttemptOutcome::kSuccess);
  EXPECT_EQ(google_->token_requests(), 1);

  // expires_in 3599 s: still used 58 minutes on, replaced a minute before the end.
  clock_.Advance(absl::Minutes(58));
  ASSERT_EQ(sender_->Send(f.Attempt()).outcome, AttemptOutcome::kSuccess);
  EXPECT_EQ(google_->token_requests(), 1);
  clock_.Advance(absl::Seconds(60));
  ASSERT_EQ(sender_->Send(f.Attempt()).outcome, AttemptOutcome::kSuccess);
  EXPECT_EQ(google_->token_requests(), 2);
  EXPECT_EQ(FcmRequests().back().Header("Authorization"), "Bearer ya29.test-token-2");
}

TEST_F(PushSenderTest, ConcurrentSendsFetchOneAccessToken) {
  const AttemptFixture f = Fixture({"device-a"});
  std::atomic<int> delivered{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (sender_->Send(f.Attempt()).outcome == AttemptOutcome::kSuccess) ++delivered;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(delivered.load(), 8);
  EXPECT_EQ(google_->token_requests(), 1);
}

TEST_F(PushSenderTest, PartialSuccessIsSuccessNamingTheDeadTokens) {
  SendResult r = sender_->Send(Fixture({"device-a", "unregistered-1", "invalid-2"}).Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kSuccess);
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.error, "");
  ASSERT_THAT(r.targets, SizeIs(3));
  EXPECT_EQ(r.targets[0].outcome, AttemptOutcome::kSuccess);
  EXPECT_EQ(r.targets[1].outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.targets[1].code, 404);
  EXPECT_EQ(r.targets[1].error, "UNREGISTERED");
  EXPECT_EQ(r.targets[2].outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.targets[2].code, 400);
  EXPECT_EQ(r.targets[2].error, "INVALID_ARGUMENT");
}

TEST_F(PushSenderTest, EveryTokenRefusedIsPermanent) {
  SendResult r = sender_->Send(Fixture({"unregistered-1", "invalid-2"}).Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.code, 404);
  EXPECT_EQ(r.error,
            "FCM refused every device token: …stered-1 UNREGISTERED, …nvalid-2 "
            "INVALID_ARGUMENT");
}

TEST_F(PushSenderTest, QuotaExceededIsRetriableAndEndsTheAttempt) {
  SendResult r = sender_->Send(Fixture({"device-a", "quota-1", "device-b"}).Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kRetriable);
  EXPECT_EQ(r.code, 429);
  EXPECT_THAT(r.retry_after, Optional(absl::Seconds(30)));
  EXPECT_THAT(r.error, HasSubstr("FCM answered HTTP 429 QUOTA_EXCEEDED for token quota-1"));
  EXPECT_THAT(r.error, HasSubstr("1 of 3 tokens accepted before it"));
  ASSERT_THAT(r.targets, SizeIs(3));
  EXPECT_EQ(r.targets[2].outcome, AttemptOutcome::kRetriable);
  EXPECT_EQ(r.targets[2].code, 0);
  EXPECT_THAT(r.targets[2].error, HasSubstr("not tried"));
  EXPECT_THAT(FcmRequests(), SizeIs(2));

  SendResult unavailable = sender_->Send(Fixture({"unavailable-1"}).Attempt());
  EXPECT_EQ(unavailable.outcome, AttemptOutcome::kRetriable);
  EXPECT_EQ(unavailable.code, 503);
}

TEST_F(PushSenderTest, RevokedAccessTokenIsDroppedAndTheNextAttemptFetchesAnother) {
  const AttemptFixture f = Fixture({"device-a"});
  ASSERT_EQ(sender_->Send(f.Attempt()).outcome, AttemptOutcome::kSuccess);
  google_->RevokeAllTokens();

  SendResult refused = sender_->Send(f.Attempt());
  EXPECT_EQ(refused.outcome, AttemptOutcome::kRetriable);
  EXPECT_EQ(refused.code, 401);
  SendResult again = sender_->Send(f.Attempt());
  EXPECT_EQ(again.outcome, AttemptOutcome::kSuccess);
  EXPECT_EQ(google_->token_requests(), 2);
}

TEST_F(PushSenderTest, PlatformCredentialErrorIsPermanentForThatToken) {
  SendResult r = sender_->Send(Fixture({"apns-bad-1", "device-a"}).Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kSuccess);
  EXPECT_EQ(r.targets[0].outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.targets[0].error, "THIRD_PARTY_AUTH_ERROR");
  EXPECT_EQ(google_->token_requests(), 1);
}

TEST_F(PushSenderTest, AnotherProjectIsRefusedForEveryTokenAtOnce) {
  AttemptFixture f = Fixture({"device-a", "device-b"});
  f.integration.config["service_account"]["project_id"] = "someone-else";
  SendResult r = sender_->Send(f.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.code, 403);
  EXPECT_THAT(r.error, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(FcmRequests(), SizeIs(1));
}

TEST_F(PushSenderTest, RefusedGrantIsPermanent) {
  AttemptFixture f = Fixture({"device-a"});
  f.integration.config["service_account"]["client_email"] = "intruder@example.com";
  SendResult r = sender_->Send(f.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.code, 400);
  EXPECT_EQ(r.error,
            "OAuth token endpoint refused the service account (HTTP 400): invalid_grant: "
            "Invalid JWT: unknown issuer");
  EXPECT_THAT(FcmRequests(), ::testing::IsEmpty());
}

TEST_F(PushSenderTest, TokenEndpointOutageIsRetriable) {
  google_->set_token_endpoint_down(true);
  SendResult r = sender_->Send(Fixture({"device-a"}).Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kRetriable);
  EXPECT_EQ(r.code, 503);
  EXPECT_THAT(r.error, HasSubstr("OAuth token endpoint answered HTTP 503"));
}

TEST_F(PushSenderTest, TokenUrlOptionOverridesTheServiceAccounts) {
  ChannelOptions options;
  options.clock = &clock_;
  options.fcm_base_url = server_->Url("");
  options.fcm_token_url = server_->Url("/token");
  std::unique_ptr<ChannelSender> sender = NewPushSender(options, http_.get());
  AttemptFixture f = Fixture({"device-a"});
  f.integration.config["service_account"]["token_uri"] = "https://oauth2.example.invalid/token";
  EXPECT_EQ(sender->Send(f.Attempt()).outcome, AttemptOutcome::kSuccess);
  EXPECT_THAT(google_->rejected_assertions(), ::testing::IsEmpty());
}

TEST_F(PushSenderTest, BrokenConfigIsPermanentWithoutARequest) {
  AttemptFixture bad_key = Fixture({"device-a"});
  bad_key.integration.config["service_account"]["private_key"] =
      "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
  SendResult r = sender_->Send(bad_key.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.error, "service_account.private_key is not an unencrypted PEM private key");

  AttemptFixture no_tokens = Fixture({});
  r = sender_->Send(no_tokens.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_THAT(r.error, HasSubstr("config.tokens"));

  AttemptFixture no_project = Fixture({"device-a"});
  no_project.integration.config["service_account"].erase("project_id");
  r = sender_->Send(no_project.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.error, "config.service_account.project_id is required");
  EXPECT_TRUE(server_->requests().empty());
}

}  // namespace
}  // namespace alerthub
