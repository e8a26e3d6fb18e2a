#include "alerthub/ports/user_erasure.h"

#include "absl/time/time.h"
#include "alerthub/model/notification.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using Json = nlohmann::json;

Json Doc(std::vector<std::string> recipients) {
  Notification n;
  n.id = "n1";
  n.tenant_id = "t1";
  n.type = "deploy.finished";
  n.title = "Hi Ada";
  n.body = "ada@example.com";
  n.data = {{"phone", "+4912345"}};
  n.tags = {{"who", "ada"}};
  n.recipients = std::move(recipients);
  n.created_at = absl::FromUnixSeconds(1700000000);
  n.updated_at = n.created_at;
  return NotificationToJson(n);
}

TEST(UserErasureTest, RemovingOneOfTwoRecipientsKeepsTheContent) {
  Json doc = Doc({"u1", "u2"});
  EXPECT_TRUE(HasRecipient(doc, "u1"));
  EXPECT_EQ(EraseRecipientFromDoc(doc, "u1"), RecipientErasure::kRemoved);
  EXPECT_EQ(doc["recipients"], Json::array({"u2"}));
  EXPECT_EQ(doc["title"], "Hi Ada");
  EXPECT_EQ(doc["data"], Json({{"phone", "+4912345"}}));
  EXPECT_FALSE(HasRecipient(doc, "u1"));
  EXPECT_EQ(EraseRecipientFromDoc(doc, "u1"), RecipientErasure::kNotRecipient);
}

TEST(UserErasureTest, RemovingTheOnlyRecipientBlanksTheContentAndStillDecodes) {
  Json doc = Doc({"u1", "u1"});
  EXPECT_EQ(EraseRecipientFromDoc(doc, "u1"), RecipientErasure::kBlanked);
  for (const char* gone : {"recipients", "title", "body", "data", "tags"}) {
    EXPECT_FALSE(doc.contains(gone)) << gone;
  }
  absl::StatusOr<Notification> n = NotificationFromJson(doc);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->id, "n1");
  EXPECT_EQ(n->type, "deploy.finished");
  EXPECT_EQ(n->title, "");
  EXPECT_EQ(n->data, Json::object());
  EXPECT_TRUE(n->tags.empty());
}

TEST(UserErasureTest, OtherDocumentsAreLeftAlone) {
  Json not_a_notification = Json::array({"u1"});
  EXPECT_EQ(EraseRecipientFromDoc(not_a_notification, "u1"), RecipientErasure::kNotRecipient);
  Json doc = Doc({"u2"});
  EXPECT_EQ(EraseRecipientFromDoc(doc, "u1"), RecipientErasure::kNotRecipient);
  EXPECT_EQ(doc, Doc({"u2"}));
}

TEST(UserErasureTest, NeedleIsTheQuotedJsonString) {
  EXPECT_EQ(RecipientNeedle("0190-ab"), "\"0190-ab\"");
  EXPECT_NE(Doc({"0190-ab"}).dump().find(RecipientNeedle("0190-ab")), std::string::npos);
}

TEST(UserErasureTest, AttemptDataLosesTheProvidersAnswersOnly) {
  Json data = {{"delivery_id", "d1"},
               {"attempt", 1},
               {"outcome", "permanent"},
               {"code", 400},
               {"error", "HTTP 400: unknown ada@example.com"},
               {"response", "{\"error\": \"ada@example.com\"}"},
               {"reason", "permanent: HTTP 400"},
               {"dead_lettered", true},
               {"targets", Json::array({{{"target", "tok…abcd"},
                                         {"outcome", "permanent"},
                                         {"code", 404},
                                         {"error", "unregistered"}}})}};
  EXPECT_EQ(AttemptDeliveryId(data), "d1");
  EXPECT_TRUE(ScrubAttemptData(data));
  EXPECT_EQ(data, Json({{"delivery_id", "d1"},
                        {"attempt", 1},
                        {"outcome", "permanent"},
                        {"code", 400},
                        {"dead_lettered", true},
                        {"targets", Json::array({{{"outcome", "permanent"}, {"code", 404}}})}}));
  EXPECT_FALSE(ScrubAttemptData(data));
  EXPECT_EQ(AttemptDeliveryId(Json::object()), "");
}

}  // namespace
}  // namespace alerthub
