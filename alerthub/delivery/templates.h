// Rendering a notification for a channel (ARCHITECTURE §3 step 4: "render the
// template -> send"). Templates are mustache (https://mustache.github.io),
// rendered with kainjow/mustache over TemplateContext(notification):
//
//   {{title}} {{body}} {{priority}} {{type}} {{id}} {{created_at}}
//   {{data.build.url}}  {{#data.ok}}...{{/data.ok}}     notification data
//   {{tags.env}}                                        one tag
//   {{#recipients}}{{.}} {{/recipients}}                a list
//
//   absl::StatusOr<RenderedMessage> m =
//       RenderForChannel(Channel::kEmail, stored_template_or_null, notification);
//   const EmailMessage& email = std::get<EmailMessage>(*m);
//
// Missing variables render as nothing. Values are escaped for where they
// land (Escaping); {{{x}}} and {{&x}} insert a value unescaped. Partials
// ({{> name}}) are not supported and render as nothing: a partial name would
// otherwise be looked up in the data, letting notification content inject
// template code.
//
// Rendering is bounded (TemplateRenderLimits) so that a tenant's template
// cannot make a shared delivery worker run out of memory or stack.
//
// Everything here is safe to call from any thread.
#ifndef ALERTHUB_DELIVERY_TEMPLATES_H_
#define ALERTHUB_DELIVERY_TEMPLATES_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/template.h"
#include "nlohmann/json.hpp"

namespace alerthub {

// How interpolated values ({{x}}) are escaped. Literal template text is
// never changed.
enum class Escaping {
  kNone,   // verbatim: plain text (e-mail text part, push, Discord)
  kHtml,   // & < > " ' as entities (e-mail HTML)
  kJson,   // for the inside of a JSON string literal: " \ and control
           // characters escaped (JSON bodies built from templates)
  kSlack,  // Slack mrkdwn: & < > as entities, so values cannot inject
           // mentions (<!channel>) or links
};

struct TemplateRenderLimits {
  // Sections ({{#a}}{{#b}}...) nested deeper than this are refused before
  // parsing (the parser keeps a copy of each section's text per level, and
  // rendering recurses per level).
  static constexpr int kMaxSectionDepth = 32;
  // Work budget of one render, in bytes: each context look-up or list item
  // costs the template's length, each interpolated value its length. Bounds
  // time and memory when sections iterate large lists inside each other.
  static constexpr size_t kMaxWork = size_t{32} << 20;
  // The largest rendered text.
  static constexpr size_t kMaxOutputBytes = size_t{1} << 20;
  // JSON contexts nested deeper than this are refused.
  static constexpr int kMaxContextDepth = 64;
};

// Renders `tmpl` over `context` (a JSON object: strings and numbers render as
// text, booleans and null decide sections, arrays iterate, objects nest).
//   kInvalidArgument   the template is malformed ("template is malformed:
//                      Unclosed section \"a\" at 0"), exceeds a
//                      TemplateRenderLimits bound (the message says which),
//                      or `context` is not an object
absl::StatusOr<std::string> RenderTemplate(absl::string_view tmpl,
                                           const nlohmann::json& context,
                                           Escaping escaping);

// The variables a template sees:
//   id, type, priority ("min".."critical"), title and body (absent when
//   empty, so {{#title}}...{{/title}} works), data (the notification's
//   data), tags (name -> value), recipients (list of user ids), created_at
//   (RFC 3339, absent when unset).
nlohmann::json TemplateContext(const Notification& n);

// What each channel sends. Text fields are final: escaped for where they go.
struct WebhookMessage {
  // The exact bytes to send (and sign): JSON. By default the notification as
  // NotificationToJson writes it.
  std::string body;
};
struct SlackMessage {
  // mrkdwn text; the notification text when `blocks` are present.
  std::string text;
  // Block Kit blocks (a JSON array), when the template has them.
  std::optional<nlohmann::json> blocks;
};
struct DiscordMessage {
  // At most 2000 characters (Discord's limit), cut with "…". Not mention-safe:
  // senders set allowed_mentions {"parse": []}.
  std::string content;
};
struct EmailMessage {
  std::string subject;  // one line: line breaks become spaces
  std::string text;     // text/plain part, values verbatim
  std::string html;     // text/html part, values HTML-escaped
};
struct PushMessage {
  std::string title;
  std::string body;
};

// In Channel's order.
using RenderedMessage =
    std::variant<WebhookMessage, SlackMessage, DiscordMessage, EmailMessage, PushMessage>;

// Renders `n` for `channel` with `tmpl`, or with the built-in defaults when
// `tmpl` is null. A template's fields replace the defaults one by one (an
// e-mail template with only a subject keeps the default text and html);
// Slack blocks come only from a template. Escaping per field: e-mail
// subject/text and push none, e-mail html HTML, Slack text Slack, Slack
// blocks and the webhook body JSON-string (then Slack inside blocks), Discord
// none. Slack blocks must render a JSON array and a webhook body JSON.
//   kInvalidArgument   `tmpl` is for another channel; or a field is
//                      malformed, exceeds a limit or renders invalid JSON:
//                      one FieldError per field ("fields.subject": "template
//                      is malformed: Unclosed tag at 3")
absl::StatusOr<RenderedMessage> RenderForChannel(Channel channel, const Template* tmpl,
                                                 const Notification& n);

// The built-in template fields for `channel` (field -> mustache text), as
// RenderForChannel uses them. The webhook default is not a template (it is
// the notification JSON), so it has none.
const std::map<std::string, std::string>& DefaultTemplateFields(Channel channel);

// --- Digests ---
// Renders `context` (a JSON object, e.g. a digest's; delivery/digest.h) for
// `channel` as RenderForChannel renders a notification: each field from
// `tmpl`, else from `defaults` (field -> mustache text), with the same
// escaping and checks. A webhook whose template has no body sends
// `default_webhook_body` as it is. kInvalidArgument as RenderForChannel.
absl::StatusOr<RenderedMessage> RenderContextForChannel(
    Channel channel, const Template* tmpl, const nlohmann::json& context,
    const std::map<std::string, std::string>& defaults, const std::string& default_webhook_body);

}  // namespace alerthub

#endif  // ALERTHUB_DELIVERY_TEMPLATES_H_
