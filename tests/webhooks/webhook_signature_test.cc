// AlertHub's webhooks, as a receiver using another implementation sees them:
// the webhook sender posts to a local receiver through the real curl
// adapter, and the captured requests are verified by the Standard Webhooks
// reference library for JavaScript (verify.mjs, npm "standardwebhooks").
// Negative cases (altered body, wrong secret, stale timestamp) show the
// verifier is not vacuous.
//
// Needs /usr/bin/node and tools/node/node_modules (tools/bootstrap.sh
// installs both); fails, never skips, without them.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alerthub/adapters/curl/curl_transport.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "alerthub/delivery/signing.h"
#include "alerthub/testing/fake_http_server.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace alerthub {
namespace {

using ::alerthub::testing::FakeHttpServer;
using ::alerthub::testing::RecordedRequest;
using ::alerthub::testing::Respond;
using ::alerthub::testing::ScriptedAnswers;
using ::testing::SizeIs;
using Json = nlohmann::json;

constexpr char kNode[] = "/usr/bin/node";
constexpr char kBootstrap[] = "run tools/bootstrap.sh";

std::string Runfile(absl::string_view path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return srcdir != nullptr ? absl::StrCat(srcdir, "/alerthub/", path) : std::string(path);
}

// Runs `argv` and returns its standard output; its standard error goes to
// the test log.
absl::StatusOr<std::string> RunProcess(std::vector<std::string> argv, int* exit_code) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError(std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run ", argv[0], ": ", std::strerror(rc), "; ", kBootstrap));
  }
  std::string output;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(out[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return output;
}

class WebhookSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kNode, X_OK), 0) << kNode << " is missing: " << kBootstrap;
    node_modules_ = Runfile("tools/node/node_modules");
    ASSERT_EQ(access(absl::StrCat(node_modules_, "/standardwebhooks/package.json").c_str(), R_OK),
              0)
        << "the standardwebhooks npm package is not installed in tools/node/node_modules: "
        << kBootstrap;
    ASSERT_OK_AND_ASSIGN(server_, FakeHttpServer::Start(ScriptedAnswers({}, Respond(204))));
    CurlOptions curl;
    curl.ssrf.allow_private_networks = true;
    http_ = NewCurlHttpClient(curl);
  }

  // Sends `body` through a webhook sender whose clock is `clock` (null: the
  // real one) and returns what the receiver got.
  RecordedRequest SendThroughAlertHub(const Json& config, const std::string& delivery_id,
                                      const std::string& body, Clock* clock) {
    ChannelOptions options;
    options.clock = clock;
    std::unique_ptr<ChannelSender> sender = NewWebhookSender(options, http_.get());
    Integration integration;
    integration.id = "int-1";
    integration.channel = Channel::kWebhook;
    integration.config = config;
    integration.config["url"] = server_->Url("/receiver");
    Delivery delivery;
    delivery.id = delivery_id;
    Notification notification;
    const RenderedMessage message = WebhookMessage{body};
    SendAttempt attempt;
    attempt.integration = &integration;
    attempt.delivery = &delivery;
    attempt.notification = &notification;
    attempt.message = &message;
    const SendResult result = sender->Send(attempt);
    EXPECT_EQ(result.outcome, AttemptOutcome::kSuccess) << result.error;
    const std::vector<RecordedRequest> got = server_->requests();
    return got.empty() ? RecordedRequest{} : got.back();
  }

  // Runs verify.mjs over `cases`; name -> result.
  std::map<std::string, Json> Verify(const Json& cases) {
    const std::string path =
        absl::StrCat(std::getenv("TEST_TMPDIR") != nullptr ? std::getenv("TEST_TMPDIR") : "/tmp",
                     "/webhook_cases.json");
    std::ofstream(path) << cases.dump();
    int exit_code = -1;
    absl::StatusOr<std::string> out =
        RunProcess({kNode, Runfile("tests/webhooks/verify.mjs"), node_modules_, path}, &exit_code);
    EXPECT_OK(out.status());
    EXPECT_EQ(exit_code, 0) << "verify.mjs failed (its error is above); " << kBootstrap;
    std::map<std::string, Json> results;
    if (!out.ok()) return results;
    const Json answer = Json::parse(*out, nullptr, false);
    EXPECT_TRUE(answer.is_object()) << "verify.mjs printed: " << *out;
    if (!answer.is_object()) return results;
    for (const Json& r : answer["results"]) results[r["name"].get<std::string>()] = r;
    return results;
  }

  static Json Case(const std::string& name, const std::string& secret, const RecordedRequest& r,
                   const std::string& body) {
    Json headers = Json::object();
    for (const auto& [key, value] : r.headers) headers[key] = value;
    return {{"name", name}, {"secret", secret}, {"headers", headers}, {"body", body}};
  }

  std::string node_modules_;
  std::unique_ptr<FakeHttpServer> server_;
  std::unique_ptr<HttpClient> http_;
};

TEST_F(WebhookSignatureTest, TheReferenceLibraryAcceptsWhatAlertHubSends) {
  const std::string current = GenerateWebhookSecret();
  const std::string previous = GenerateWebhookSecret();
  const std::string body = R"({"id":"0190c2a4","title":"Déploiement terminé ✅","data":{"n":1}})";
  const std::string unicode_body = R"({"emoji":"🚀","jp":"日本語","quote":"\"x\""})";

  const RecordedRequest plain =
      SendThroughAlertHub({{"secret", current}}, "0190c2a4-delivery-1", body, nullptr);
  const RecordedRequest retry =
      SendThroughAlertHub({{"secret", current}}, "0190c2a4-delivery-1", body, nullptr);
  const RecordedRequest rotating =
      SendThroughAlertHub({{"secret", current}, {"previous_secrets", {previous}}},
                          "0190c2a4-delivery-2", unicode_body, nullptr);
  SimulatedClock ten_minutes_ago(absl::Now() - absl::Minutes(10));
  const RecordedRequest stale =
      SendThroughAlertHub({{"secret", current}}, "0190c2a4-delivery-3", body, &ten_minutes_ago);
  ASSERT_THAT(server_->requests(), SizeIs(4));
  EXPECT_EQ(plain.Header("webhook-id"), retry.Header("webhook-id"));

  const Json cases = {
      Case("plain", current, plain, plain.body),
      Case("retry", current, retry, retry.body),
      Case("rotating, new secret", current, rotating, rotating.body),
      Case("rotating, previous secret", previous, rotating, rotating.body),
      Case("altered body", current, plain, plain.body + " "),
      Case("wrong secret", GenerateWebhookSecret(), plain, plain.body),
      Case("stale timestamp", current, stale, stale.body),
  };
  std::map<std::string, Json> results = Verify(cases);
  ASSERT_EQ(results.size(), cases.size());
  for (const char* name : {"plain", "retry", "rotating, new secret", "rotating, previous secret"}) {
    EXPECT_EQ(results[name]["valid"], true) << name << ": " << results[name]["error"];
  }
  EXPECT_EQ(results["altered body"]["valid"], false);
  EXPECT_EQ(results["altered body"]["error"], "No matching signature found");
  EXPECT_EQ(results["wrong secret"]["valid"], false);
  EXPECT_EQ(results["wrong secret"]["error"], "No matching signature found");
  EXPECT_EQ(results["stale timestamp"]["valid"], false);
  EXPECT_EQ(results["stale timestamp"]["error"], "Message timestamp too old");
}

}  // namespace
}  // namespace alerthub
