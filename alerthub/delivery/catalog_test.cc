#include "alerthub/delivery/catalog.h"

#include <memory>
#include <string>

#include "alerthub/adapters/sqlite/sqlite_store.h"
#include "alerthub/common/status.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *OpenSqliteStore({.path = ":memory:", .clock = &clock_});
    Tenant t;
    t.id = "tenant-1";
    t.name = "acme";
    t.created_at = clock_.Now();
    ASSERT_OK(store_->CreateTenant(t));
  }

  SimulatedClock clock_;
  std::unique_ptr<SqliteStore> store_;
  SecretBox box_ = *SecretBox::FromKey(std::string(32, 'k'));
  Catalog& catalog() {
    if (real_ == nullptr) real_ = std::make_unique<Catalog>(store_.get(), &box_, &clock_);
    return *real_;
  }
  std::unique_ptr<Catalog> real_;
};

TEST_F(CatalogTest, CreatesAWebhookWithAGeneratedSecretStoredSealed) {
  ASSERT_OK_AND_ASSIGN(
      CreatedIntegration c,
      catalog().CreateIntegration("tenant-1", nlohmann::json::parse(R"({
        "name": "ops", "channel": "webhook", "config": {"url": "https://example.com/h"}})")));
  EXPECT_THAT(c.generated_secret, StartsWith("whsec_"));
  EXPECT_FALSE(c.integration.id.empty());
  ASSERT_OK_AND_ASSIGN(Integration stored, store_->GetIntegration("tenant-1", c.integration.id));
  EXPECT_TRUE(SecretBox::IsSealed(stored.config["secret"].get<std::string>()));
  ASSERT_OK_AND_ASSIGN(Integration opened, catalog().OpenIntegration(stored));
  EXPECT_EQ(opened.config["secret"], c.generated_secret);
  EXPECT_EQ(IntegrationToJson(stored, SecretHandling::kRedact)["config"]["secret"],
            std::string(kRedactedSecret));
}

TEST_F(CatalogTest, InvalidConfigNamesTheField) {
  absl::StatusOr<CreatedIntegration> c = catalog().CreateIntegration(
      "tenant-1", nlohmann::json::parse(R"({"name": "x", "channel": "email",
        "config": {"smtp_url": "ftp://x", "from": "a@b.c", "to": ["nope"]}})"));
  ASSERT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<std::string> fields;
  for (const FieldError& e : FieldErrorsOf(c.status())) fields.push_back(e.field);
  EXPECT_THAT(fields, Contains("config.smtp_url"));
  EXPECT_THAT(fields, Contains("config.to[0]"));
  EXPECT_THAT(catalog().CreateIntegration("tenant-1", nlohmann::json::array()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CatalogTest, PatchMergesConfigAndKeepsRedactedSecrets) {
  ASSERT_OK_AND_ASSIGN(
      CreatedIntegration c,
      catalog().CreateIntegration("tenant-1", nlohmann::json::parse(R"({
        "name": "ops", "channel": "webhook", "config": {"url": "https://example.com/h"}})")));
  clock_.Advance(absl::Seconds(1));
  // A GET body sent back with one change keeps the secret.
  nlohmann::json patch = {{"name", "renamed"},
                          {"enabled", false},
                          {"config", {{"url", "https://example.org/new"},
                                      {"secret", std::string(kRedactedSecret)}}}};
  ASSERT_OK_AND_ASSIGN(Integration p, catalog().PatchIntegration("tenant-1", c.integration.id, patch));
  EXPECT_EQ(p.name, "renamed");
  EXPECT_FALSE(p.enabled);
  EXPECT_EQ(p.updated_at, clock_.Now());
  ASSERT_OK_AND_ASSIGN(Integration opened, catalog().OpenIntegration(p));
  EXPECT_EQ(opened.config["url"], "https://example.org/new");
  EXPECT_EQ(opened.config["secret"], c.generated_secret);

  EXPECT_THAT(catalog().PatchIntegration("tenant-1", c.integration.id,
                                         {{"channel", "slack"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(catalog().PatchIntegration("tenant-1", c.integration.id,
                                         {{"config", {{"url", "not a url"}}}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(catalog().PatchIntegration("other", c.integration.id, {{"name", "x"}}),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CatalogTest, RetryOverrideIsCheckedAndKept) {
  absl::StatusOr<CreatedIntegration> bad = catalog().CreateIntegration(
      "tenant-1", nlohmann::json::parse(R"({"name": "x", "channel": "webhook",
        "config": {"url": "https://example.com/h"}, "retry": {"schedule": ["0s", "soon"]}})"));
  ASSERT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_FALSE(FieldErrorsOf(bad.status()).empty());
  EXPECT_EQ(FieldErrorsOf(bad.status())[0].field, "retry.schedule[1]");

  ASSERT_OK_AND_ASSIGN(
      CreatedIntegration c,
      catalog().CreateIntegration("tenant-1", nlohmann::json::parse(R"({"name": "x",
        "channel": "webhook", "config": {"url": "https://example.com/h"},
        "retry": {"schedule": ["0s", "30s"]}})")));
  ASSERT_OK_AND_ASSIGN(Integration stored, store_->GetIntegration("tenant-1", c.integration.id));
  EXPECT_EQ(stored.retry["schedule"][1], "30s");
  ASSERT_OK_AND_ASSIGN(Integration cleared, catalog().PatchIntegration("tenant-1", stored.id,
                                                                       {{"retry", nullptr}}));
  EXPECT_TRUE(cleared.retry.is_null());
}

TEST_F(CatalogTest, TemplatesMustRender) {
  ASSERT_OK_AND_ASSIGN(Template t, catalog().CreateTemplate("tenant-1", nlohmann::json::parse(R"({
      "name": "deploy.v1", "channel": "email",
      "fields": {"subject": "[{{priority}}] {{title}}", "html": "<b>{{body}}</b>"}})")));
  EXPECT_FALSE(t.id.empty());
  absl::StatusOr<Template> broken = catalog().CreateTemplate(
      "tenant-1", nlohmann::json::parse(R"({"name": "bad", "channel": "email",
        "fields": {"subject": "{{#open}} never closed"}})"));
  ASSERT_THAT(broken, StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_FALSE(FieldErrorsOf(broken.status()).empty());
  EXPECT_EQ(FieldErrorsOf(broken.status())[0].field, "fields.subject");

  ASSERT_OK_AND_ASSIGN(Template p, catalog().PatchTemplate("tenant-1", t.id,
                                                           {{"fields", {{"html", nullptr}}}}));
  EXPECT_EQ(p.fields.count("html"), 0u);
  EXPECT_EQ(p.fields.at("subject"), "[{{priority}}] {{title}}");
  EXPECT_THAT(catalog().CreateTemplate("tenant-1", nlohmann::json::parse(R"({
      "name": "deploy.v1", "channel": "email", "fields": {"subject": "x"}})")),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_OK(catalog().DeleteTemplate("tenant-1", t.id));
  EXPECT_THAT(catalog().GetTemplate("tenant-1", t.id), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace alerthub
