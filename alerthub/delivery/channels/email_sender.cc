// E-mail over SMTP (ARCHITECTURE §4 "Channels"): the rendered subject, text
// and HTML as one MIME message (mime.h) with Message-ID <delivery-id@alerthub>
// (stable across retries) and Date from the clock, submitted through the
// MailTransport to config.smtp_url with config.username/password, from
// config.from to every address in config.to -- or, for a delivery to one
// recipient, to that user's address alone (SendAttempt::recipient). A 5xx refusal is permanent;
// 4xx and transport failures are retried (ClassifyTransportError on the
// transport's status).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "alerthub/delivery/channels/internal/common.h"
#include "alerthub/delivery/channels/mime.h"

namespace alerthub {
namespace {

using channels_internal::Broken;
using Json = nlohmann::json;

// A delivery id fit for a Message-ID's left part (RFC 5322 dot-atom-text
// without dots is enough for UUIDs).
bool IsMessageIdLocalPart(absl::string_view id) {
  if (id.empty()) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool HasLineBreak(absl::string_view s) { return s.find_first_of("\r\n") != s.npos; }

class EmailSender final : public ChannelSender {
 public:
  EmailSender(const ChannelOptions& options, MailTransport* mail)
      : timeout_(options.timeout),
        clock_(options.clock != nullptr ? options.clock : Clock::Real()),
        mail_(mail) {}

  SendResult Send(const SendAttempt& attempt) override {
    const channels_internal::Stopwatch stopwatch;
    absl::StatusOr<const EmailMessage*> message =
        channels_internal::MessageFor<EmailMessage>(attempt, Channel::kEmail);
    if (!message.ok()) return Broken(std::string(message.status().message()));
    const Json& config = attempt.integration->config;

    MailEnvelope envelope;
    envelope.timeout = timeout_;
    for (auto [key, out] :
         {std::pair{"smtp_url", &envelope.smtp_url}, std::pair{"from", &envelope.from}}) {
      absl::StatusOr<absl::string_view> value =
          channels_internal::RequiredString(config, key, absl::StrCat("config.", key));
      if (!value.ok()) return Broken(std::string(value.status().message()));
      *out = std::string(*value);
    }
    for (auto [key, out] :
         {std::pair{"username", &envelope.username}, std::pair{"password", &envelope.password}}) {
      absl::StatusOr<absl::string_view> value =
          channels_internal::OptionalString(config, key, absl::StrCat("config.", key));
      if (!value.ok()) return Broken(std::string(value.status().message()));
      *out = std::string(*value);
    }
    if (attempt.recipient != nullptr) {
      // One recipient of the notification: their address, not config.to.
      // addresses.email, else the account's e-mail (what routing checked).
      const User& user = *attempt.recipient;
      const std::string& address =
          user.addresses.email.empty() ? user.email : user.addresses.email;
      if (address.empty() || HasLineBreak(address)) {
        return Broken(absl::StrCat("recipient ", attempt.recipient->id,
                                   " has no usable e-mail address"));
      }
      envelope.to.push_back(address);
    } else {
      auto to = config.find("to");
      if (to == config.end() || !to->is_array() || to->empty()) {
        return Broken("config.to must list at least one address");
      }
      for (size_t i = 0; i < to->size(); ++i) {
        const Json& address = (*to)[i];
        if (!address.is_string() || address.get_ref<const std::string&>().empty() ||
            HasLineBreak(address.get_ref<const std::string&>())) {
          return Broken(absl::StrCat("config.to[", i, "] is not an address"));
        }
        envelope.to.push_back(address.get<std::string>());
      }
    }
    if (HasLineBreak(envelope.from)) return Broken("config.from is not an address");
    if (!IsMessageIdLocalPart(attempt.delivery->id)) {
      return Broken(absl::StrCat("delivery id \"", absl::CEscape(attempt.delivery->id),
                                 "\" cannot be a Message-ID"));
    }

    EmailContent content;
    content.from = envelope.from;
    content.to = envelope.to;
    content.message_id = absl::StrCat("<", attempt.delivery->id, "@alerthub>");
    content.date = clock_->Now();
    content.subject = (*message)->subject;
    content.text = (*message)->text;
    content.html = (*message)->html;
    if (content.text.empty() && content.html.empty()) {
      return Broken("the e-mail has neither a text nor an HTML body");
    }
    envelope.message = BuildEmailMessage(content);

    absl::StatusOr<MailReply> reply = mail_->Send(envelope);
    SendResult result;
    if (reply.ok()) {
      result.outcome = AttemptOutcome::kSuccess;
      result.code = reply->code;
      result.response = channels_internal::Utf8Prefix(absl::StrCat(reply->code, " ", reply->text));
    } else {
      result = channels_internal::TransportFailure(reply.status(), "SMTP server");
      if (std::optional<int> code = SmtpReplyCode(reply.status()); code.has_value()) {
        result.code = *code;
        result.error = absl::StrCat("SMTP server refused the message: ", reply.status().message());
        result.response = channels_internal::Utf8Prefix(reply.status().message());
      }
    }
    result.latency = stopwatch.Elapsed();
    return result;
  }

 private:
  const absl::Duration timeout_;
  Clock* const clock_;
  MailTransport* const mail_;
};

}  // namespace

std::unique_ptr<ChannelSender> NewEmailSender(const ChannelOptions& options, MailTransport* mail) {
  return std::make_unique<EmailSender>(options, mail);
}

}  // namespace alerthub
