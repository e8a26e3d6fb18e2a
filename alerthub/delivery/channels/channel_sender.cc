#include "alerthub/delivery/channels/channel_sender.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/delivery/channels/internal/common.h"

namespace alerthub {
namespace {

// Routes each attempt to the sender of its integration's channel.
class ChannelDispatcher final : public ChannelSender {
 public:
  ChannelDispatcher(const ChannelOptions& options, HttpClient* http, MailTransport* mail)
      : webhook_(NewWebhookSender(options, http)),
        slack_(NewSlackSender(options, http)),
        discord_(NewDiscordSender(options, http)),
        email_(NewEmailSender(options, mail)),
        push_(NewPushSender(options, http)) {}

  SendResult Send(const SendAttempt& attempt) override {
    if (attempt.integration == nullptr) {
      return channels_internal::Broken("send attempt lacks its integration");
    }
    switch (attempt.integration->channel) {
      case Channel::kWebhook:
        return webhook_->Send(attempt);
      case Channel::kSlack:
        return slack_->Send(attempt);
      case Channel::kDiscord:
        return discord_->Send(attempt);
      case Channel::kEmail:
        return email_->Send(attempt);
      case Channel::kPush:
        return push_->Send(attempt);
    }
    return channels_internal::Broken(absl::StrCat("integration ", attempt.integration->id,
                                                  " has unknown channel ",
                                                  static_cast<int>(attempt.integration->channel)));
  }

 private:
  const std::unique_ptr<ChannelSender> webhook_;
  const std::unique_ptr<ChannelSender> slack_;
  const std::unique_ptr<ChannelSender> discord_;
  const std::unique_ptr<ChannelSender> email_;
  const std::unique_ptr<ChannelSender> push_;
};

}  // namespace

std::unique_ptr<ChannelSender> NewChannelSenders(const ChannelOptions& options, HttpClient* http,
                                                 MailTransport* mail) {
  return std::make_unique<ChannelDispatcher>(options, http, mail);
}

}  // namespace alerthub
