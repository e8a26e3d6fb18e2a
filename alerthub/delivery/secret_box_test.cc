#include "alerthub/delivery/secret_box.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;

Integration WebhookWithSecret() {
  Integration i;
  i.id = "int-1";
  i.tenant_id = "tenant-1";
  i.channel = Channel::kWebhook;
  i.config = {{"url", "https://example.com/hook"},
              {"secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
              {"previous_secrets", {"whsec_b2xkIHNlY3JldCBrZXkgb2YgMjQgYnl0ZXM="}}};
  return i;
}

SecretBox TestBox(char fill = 'k') { return *SecretBox::FromKey(std::string(32, fill)); }

TEST(SecretBoxTest, SealsEverySecretAndOpensThemBack) {
  const Integration original = WebhookWithSecret();
  Integration i = original;
  SecretBox box = TestBox();
  ASSERT_OK(box.Seal(&i));
  EXPECT_TRUE(SecretBox::IsSealed(i.config["secret"].get<std::string>()));
  EXPECT_TRUE(SecretBox::IsSealed(i.config["previous_secrets"][0].get<std::string>()));
  EXPECT_EQ(i.config["url"], "https://example.com/hook");  // not a secret
  // Sealing twice changes nothing.
  Integration twice = i;
  ASSERT_OK(box.Seal(&twice));
  EXPECT_EQ(twice.config, i.config);
  ASSERT_OK(box.Open(&i));
  EXPECT_EQ(i.config, original.config);
}

TEST(SecretBoxTest, SealedSecretsAreBoundToTheirIntegrationAndKey) {
  Integration i = WebhookWithSecret();
  ASSERT_OK(TestBox().Seal(&i));
  Integration moved = i;
  moved.id = "int-2";
  EXPECT_THAT(TestBox().Open(&moved), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("config.secret")));
  Integration other_key = i;
  EXPECT_THAT(TestBox('x').Open(&other_key),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("secrets key")));
}

TEST(SecretBoxTest, SealsTheSecretsOfEveryChannel) {
  Integration slack;
  slack.channel = Channel::kSlack;
  slack.config = {{"bot_token", "xoxb-1"}, {"channel", "#ops"}};
  Integration email;
  email.channel = Channel::kEmail;
  email.config = {{"smtp_url", "smtp://mail:25"}, {"password", "pw"}, {"username", "u"}};
  Integration push;
  push.channel = Channel::kPush;
  push.config = {{"service_account", {{"private_key", "PEM"}, {"client_email", "a@b"}}}};
  for (Integration* i : {&slack, &email, &push}) {
    i->id = "i";
    i->tenant_id = "t";
    const std::string before = i->config.dump();
    ASSERT_OK(TestBox().Seal(i));
    EXPECT_FALSE(absl::StrContains(i->config.dump(), "xoxb-1"));
    EXPECT_FALSE(absl::StrContains(i->config.dump(), "\"pw\""));
    EXPECT_FALSE(absl::StrContains(i->config.dump(), "PEM"));
    ASSERT_OK(TestBox().Open(i));
    EXPECT_EQ(i->config.dump(), before);
  }
  EXPECT_EQ(slack.config["channel"], "#ops");
}

TEST(SecretBoxTest, KeyTextForms) {
  EXPECT_OK(SecretBox::FromText(std::string(64, 'a')).status());
  EXPECT_OK(SecretBox::FromText("  AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").status());
  EXPECT_THAT(SecretBox::FromText("short"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("openssl rand")));
  EXPECT_THAT(SecretBox::FromKey("short"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SecretBoxTest, LoadOrCreateWritesAPrivateKeyFileOnce) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/secrets-key-" + std::to_string(getpid());
  unlink(path.c_str());
  EXPECT_THAT(SecretBox::FromFile(path), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(SecretBox first, SecretBox::LoadOrCreate(path));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  Integration i = WebhookWithSecret();
  ASSERT_OK(first.Seal(&i));
  // A restart reads the same key.
  ASSERT_OK_AND_ASSIGN(SecretBox second, SecretBox::LoadOrCreate(path));
  EXPECT_OK(second.Open(&i));
  std::ofstream(path) << "garbage";
  EXPECT_THAT(SecretBox::FromFile(path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(path)));
  unlink(path.c_str());
}

}  // namespace
}  // namespace alerthub
