#include "alerthub/delivery/target_resolver.h"

#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;

TEST(RecipientAddressTest, PersonalChannelsAreRecipientTargetedWebhooksAreNot) {
  EXPECT_TRUE(IsRecipientTargeted(Channel::kEmail));
  EXPECT_TRUE(IsRecipientTargeted(Channel::kPush));
  EXPECT_TRUE(IsRecipientTargeted(Channel::kSlack));
  EXPECT_TRUE(IsRecipientTargeted(Channel::kDiscord));
  EXPECT_FALSE(IsRecipientTargeted(Channel::kWebhook));
}

TEST(RecipientAddressTest, EachChannelNeedsItsAddress) {
  User bare;
  bare.id = "u1";
  bare.email = "ada@example.com";
  // E-mail falls back to the account's address; the others have none.
  EXPECT_OK(CheckRecipientAddress(bare, Channel::kEmail));
  EXPECT_EQ(RecipientEmail(bare), "ada@example.com");
  EXPECT_THAT(CheckRecipientAddress(bare, Channel::kPush),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "recipient u1 has no push device token (addresses.fcm_tokens) for "
                       "channel push"));
  EXPECT_THAT(CheckRecipientAddress(bare, Channel::kSlack),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "recipient u1 has no addresses.slack_user_id for channel slack"));
  EXPECT_THAT(CheckRecipientAddress(bare, Channel::kDiscord),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "recipient u1 has no addresses.discord_user_id for channel discord"));

  User full = bare;
  full.addresses = {.email = "ada.pager@example.com",
                    .fcm_tokens = {"device"},
                    .slack_user_id = "U024BE7LH",
                    .discord_user_id = "80351110224678912"};
  EXPECT_EQ(RecipientEmail(full), "ada.pager@example.com");
  for (Channel c : {Channel::kEmail, Channel::kPush, Channel::kSlack, Channel::kDiscord}) {
    EXPECT_OK(CheckRecipientAddress(full, c)) << ChannelName(c);
  }
}

}  // namespace
}  // namespace alerthub
