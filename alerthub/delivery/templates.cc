#include "alerthub/delivery/templates.h"

#include <algorithm>
#include <exception>
#include <functional>
#include <new>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/common/time.h"
#include "kainjow/mustache.hpp"

namespace alerthub {
namespace {

namespace mustache = kainjow::mustache;
using Json = nlohmann::json;
using Escaper = std::function<std::string(const std::string&)>;

constexpr size_t kDiscordMaxContentChars = 2000;

// ---------------------------------------------------------------------------
// Escaping.

std::string EscapeNone(const std::string& s) { return s; }

std::string EscapeJsonString(const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out;
}

// Replaces & < > with entities, and also " and ' when `quotes` is set.
std::string EscapeMarkup(const std::string& s, bool quotes) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += quotes ? "&quot;" : "\"";
        break;
      case '\'':
        out += quotes ? "&#39;" : "'";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Mustache's rule (& < > "), plus ' as &#39; (not &apos;, which some e-mail
// clients' HTML renderers predate).
std::string EscapeHtml(const std::string& s) { return EscapeMarkup(s, /*quotes=*/true); }

// Slack's mrkdwn control characters only: & < > (so text cannot inject
// <!channel> mentions or links).
std::string EscapeSlack(const std::string& s) { return EscapeMarkup(s, /*quotes=*/false); }

std::string EscapeSlackJson(const std::string& s) { return EscapeJsonString(EscapeSlack(s)); }

Escaper EscaperFor(Escaping escaping) {
  switch (escaping) {
    case Escaping::kNone:
      return EscapeNone;
    case Escaping::kHtml:
      return EscapeHtml;
    case Escaping::kJson:
      return EscapeJsonString;
    case Escaping::kSlack:
      return EscapeSlack;
  }
  return EscapeNone;
}

// ---------------------------------------------------------------------------
// Limits.

// Thrown from inside kainjow's renderer to abandon a render over budget;
// caught in Render(). kainjow unwinds cleanly (its context pushes are RAII).
class RenderLimitExceeded : public std::exception {
 public:
  explicit RenderLimitExceeded(const char* what) : what_(what) {}
  const char* what() const noexcept override { return what_; }

 private:
  const char* what_;
};

// kainjow's context with every look-up and list item metered against
// TemplateRenderLimits::kMaxWork, nesting bounded, and partials disabled.
class MeteredContext final : public mustache::context<std::string> {
 public:
  MeteredContext(const mustache::data* root, size_t template_size)
      : context(root), unit_(std::max<size_t>(template_size, 1)) {}

  void push(const mustache::data* data) override {
    Spend(unit_);
    if (++depth_ > TemplateRenderLimits::kMaxSectionDepth) {
      throw RenderLimitExceeded("template nests sections too deeply");
    }
    context::push(data);
  }
  void pop() override {
    --depth_;
    context::pop();
  }
  const mustache::data* get(const std::string& name) const override {
    Spend(unit_);
    const mustache::data* value = context::get(name);
    if (value != nullptr && value->is_string()) Spend(value->string_value().size());
    return value;
  }
  const mustache::data* get_partial(const std::string&) const override { return nullptr; }

 private:
  void Spend(size_t n) const {
    spent_ += n;
    if (spent_ > TemplateRenderLimits::kMaxWork) {
      throw RenderLimitExceeded(
          "template needs too much work to render (sections iterate too much data)");
    }
  }

  const size_t unit_;
  int depth_ = 0;
  mutable size_t spent_ = 0;
};

// kainjow keeps a copy of each section's text per nesting level while
// parsing, so a deeply nested template costs memory quadratic in its length
// before rendering starts. This scan follows kainjow's tokenizer (tags,
// triple mustaches, set-delimiter tags) and refuses deep nesting first;
// malformed tags are left for kainjow to report.
bool ParseSetDelimiter(absl::string_view tag, std::string* begin, std::string* end) {
  if (tag.size() < 5 || tag.back() != '=') return false;
  const absl::string_view inner = absl::StripAsciiWhitespace(tag.substr(1, tag.size() - 2));
  const size_t space = inner.find(' ');
  if (space == absl::string_view::npos) return false;
  const size_t next = inner.find_first_not_of(' ', space + 1);
  if (next == absl::string_view::npos) return false;
  const absl::string_view b = inner.substr(0, space);
  const absl::string_view e = inner.substr(next);
  for (absl::string_view d : {b, e}) {
    for (char c : d) {
      if (c == '=' || absl::ascii_isspace(static_cast<unsigned char>(c))) return false;
    }
  }
  *begin = std::string(b);
  *end = std::string(e);
  return true;
}

absl::Status CheckSectionDepth(absl::string_view t) {
  std::string begin = "{{";
  std::string end = "}}";
  int depth = 0;
  size_t pos = 0;
  while (pos < t.size()) {
    if (t.compare(pos, begin.size(), begin) != 0) {
      ++pos;
      continue;
    }
    const bool braces = begin == "{{" && end == "}}";
    size_t contents = pos + begin.size();
    const bool triple = braces && pos != t.size() - 2 && contents < t.size() &&
                        t[contents] == begin[0];
    const absl::string_view close = triple ? absl::string_view("}}}") : end;
    if (triple) ++contents;
    const size_t stop = t.find(close, contents);
    if (stop == absl::string_view::npos) return absl::OkStatus();
    const absl::string_view tag = absl::StripAsciiWhitespace(t.substr(contents, stop - contents));
    if (!tag.empty() && tag[0] == '=') {
      if (!ParseSetDelimiter(tag, &begin, &end)) return absl::OkStatus();
    } else if (!triple && !tag.empty()) {
      if (tag[0] == '#' || tag[0] == '^') {
        if (++depth > TemplateRenderLimits::kMaxSectionDepth) {
          return absl::InvalidArgumentError(
              absl::StrCat("template nests sections deeper than ",
                           TemplateRenderLimits::kMaxSectionDepth));
        }
      } else if (tag[0] == '/') {
        --depth;
      }
    }
    pos = stop + close.size();
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Rendering.

absl::StatusOr<mustache::data> ToMustache(const Json& j, int depth) {
  if (depth > TemplateRenderLimits::kMaxContextDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("template context nests deeper than ",
                     TemplateRenderLimits::kMaxContextDepth));
  }
  switch (j.type()) {
    case Json::value_t::object: {
      mustache::data d(mustache::data::type::object);
      for (auto it = j.begin(); it != j.end(); ++it) {
        absl::StatusOr<mustache::data> child = ToMustache(it.value(), depth + 1);
        if (!child.ok()) return child.status();
        d[it.key()] = std::move(*child);
      }
      return d;
    }
    case Json::value_t::array: {
      mustache::data d(mustache::data::type::list);
      for (const Json& item : j) {
        absl::StatusOr<mustache::data> child = ToMustache(item, depth + 1);
        if (!child.ok()) return child.status();
        d.push_back(*child);
      }
      return d;
    }
    case Json::value_t::string:
      return mustache::data(j.get_ref<const std::string&>());
    case Json::value_t::boolean:
      return mustache::data(j.get<bool>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return mustache::data(j.dump());
    default:  // null, binary, discarded: falsy and renders nothing
      return mustache::data(false);
  }
}

absl::StatusOr<mustache::data> ContextData(const Json& context) {
  if (!context.is_object()) {
    return absl::InvalidArgumentError("template context must be a JSON object");
  }
  return ToMustache(context, 0);
}

absl::StatusOr<std::string> Render(absl::string_view tmpl, const mustache::data& data,
                                   const Escaper& escape) {
  if (absl::Status s = CheckSectionDepth(tmpl); !s.ok()) return s;
  try {
    mustache::mustache m{std::string(tmpl)};
    if (!m.is_valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("template is malformed: ", m.error_message()));
    }
    m.set_custom_escape(escape);
    MeteredContext context(&data, tmpl.size());
    std::string out = m.render(context);
    if (!m.is_valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("template cannot be rendered: ", m.error_message()));
    }
    if (out.size() > TemplateRenderLimits::kMaxOutputBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("template renders ", out.size(), " bytes; the limit is ",
                       TemplateRenderLimits::kMaxOutputBytes));
    }
    return out;
  } catch (const RenderLimitExceeded& e) {
    return absl::InvalidArgumentError(e.what());
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory rendering a template");
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("template cannot be rendered: ", e.what()));
  }
}

// "…"-terminated prefix of at most `max_chars` code points of UTF-8 `s`.
std::string TruncateChars(std::string s, size_t max_chars) {
  size_t chars = 0;
  size_t cut = std::string::npos;  // byte offset after max_chars - 1 code points
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) == 0x80) continue;  // continuation
    if (chars == max_chars - 1) cut = i;
    if (++chars > max_chars) {
      s.resize(cut);
      s += "\xe2\x80\xa6";  // U+2026 HORIZONTAL ELLIPSIS
      return s;
    }
  }
  return s;
}

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return s;
}

// Renders the fields of one message, collecting one FieldError per failing
// field.
class FieldRenderer {
 public:
  FieldRenderer(const Template* tmpl, const mustache::data& data,
                const std::map<std::string, std::string>& defaults)
      : tmpl_(tmpl), data_(data), defaults_(defaults) {}

  // True when the template (not only the defaults) defines `field`.
  bool Templated(const std::string& field) const {
    return tmpl_ != nullptr && tmpl_->fields.count(field) > 0;
  }

  // The field rendered from the template, else from the defaults, else "".
  std::string Field(const std::string& field, const Escaper& escape) {
    const std::string* source = nullptr;
    if (Templated(field)) {
      source = &tmpl_->fields.at(field);
    } else if (auto it = defaults_.find(field); it != defaults_.end()) {
      source = &it->second;
    }
    if (source == nullptr) return "";
    absl::StatusOr<std::string> out = Render(*source, data_, escape);
    if (!out.ok()) {
      Fail(field, out.status().message());
      return "";
    }
    return *std::move(out);
  }

  // A field that must render JSON (an array when `array`); `text` receives
  // what was rendered.
  std::optional<Json> JsonField(const std::string& field, const Escaper& escape,
                                bool array, std::string* text) {
    const size_t errors_before = errors_.size();
    *text = Field(field, escape);
    if (errors_.size() != errors_before) return std::nullopt;
    Json j = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      Fail(field, "must render valid JSON");
      return std::nullopt;
    }
    if (array && !j.is_array()) {
      Fail(field, "must render a JSON array");
      return std::nullopt;
    }
    return j;
  }

  void Fail(absl::string_view field, absl::string_view message) {
    errors_.push_back({absl::StrCat("fields.", field), std::string(message)});
  }

  absl::Status Status(Channel channel) const {
    if (errors_.empty()) return absl::OkStatus();
    return InvalidArgumentWithFields(
        tmpl_ != nullptr
            ? absl::StrCat("cannot render template \"", tmpl_->name, "\" for ",
                           ChannelName(channel))
            : absl::StrCat("cannot render the default ", ChannelName(channel), " template"),
        errors_);
  }

 private:
  const Template* const tmpl_;
  const mustache::data& data_;
  const std::map<std::string, std::string>& defaults_;
  std::vector<FieldError> errors_;
};

std::string DefaultWebhookBody(const Notification& n) {
  return NotificationToJson(n).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

absl::StatusOr<std::string> RenderTemplate(absl::string_view tmpl,
                                           const nlohmann::json& context,
                                           Escaping escaping) {
  absl::StatusOr<mustache::data> data = ContextData(context);
  if (!data.ok()) return data.status();
  return Render(tmpl, *data, EscaperFor(escaping));
}

nlohmann::json TemplateContext(const Notification& n) {
  Json c = Json::object();
  c["id"] = n.id;
  c["type"] = n.type;
  c["priority"] = std::string(PriorityName(n.priority));
  if (!n.title.empty()) c["title"] = n.title;
  if (!n.body.empty()) c["body"] = n.body;
  c["data"] = n.data.is_null() ? Json::object() : n.data;
  c["tags"] = n.tags;
  c["recipients"] = n.recipients;
  if (n.created_at != absl::InfinitePast()) c["created_at"] = FormatRfc3339(n.created_at);
  return c;
}

const std::map<std::string, std::string>& DefaultTemplateFields(Channel channel) {
  // The title falls back to the type, so a notification without one still
  // has a subject line.
  static constexpr char kTitleOrType[] =
      "{{#title}}{{title}}{{/title}}{{^title}}{{type}}{{/title}}";
  static const auto* const kNone = new std::map<std::string, std::string>();
  // Slack and Discord refuse empty messages, so a notification with neither
  // title nor body shows its type.
  static const auto* const kSlack = new std::map<std::string, std::string>{
      {"text",
       "{{#title}}*{{title}}*\n{{/title}}{{body}}"
       "{{^title}}{{^body}}{{type}}{{/body}}{{/title}}"},
  };
  static const auto* const kDiscord = new std::map<std::string, std::string>{
      {"content",
       "{{#title}}**{{title}}**\n{{/title}}{{body}}"
       "{{^title}}{{^body}}{{type}}{{/body}}{{/title}}"},
  };
  static const auto* const kEmail = new std::map<std::string, std::string>{
      {"subject", kTitleOrType},
      {"text",
       "{{#title}}{{title}}\n\n{{/title}}{{body}}\n\n-- \n"
       "{{type}} | priority {{priority}} | {{id}}\n"},
      {"html",
       "<!DOCTYPE html>\n<html><body>\n"
       "{{#title}}<h2>{{title}}</h2>\n{{/title}}"
       "<p style=\"white-space: pre-wrap\">{{body}}</p>\n"
       "<p style=\"color: #888888; font-size: 12px\">"
       "{{type}} | priority {{priority}} | {{id}}</p>\n"
       "</body></html>\n"},
  };
  static const auto* const kPush = new std::map<std::string, std::string>{
      {"title", kTitleOrType},
      {"body", "{{body}}"},
  };
  switch (channel) {
    case Channel::kWebhook:
      return *kNone;
    case Channel::kSlack:
      return *kSlack;
    case Channel::kDiscord:
      return *kDiscord;
    case Channel::kEmail:
      return *kEmail;
    case Channel::kPush:
      return *kPush;
  }
  return *kNone;
}

namespace {

absl::Status CheckTemplateChannel(Channel channel, const Template* tmpl) {
  if (tmpl != nullptr && tmpl->channel != channel) {
    return absl::InvalidArgumentError(
        absl::StrCat("template \"", tmpl->name, "\" is for ", ChannelName(tmpl->channel),
                     ", not ", ChannelName(channel)));
  }
  return absl::OkStatus();
}

bool HasWebhookBody(const Template* tmpl) {
  return tmpl != nullptr && tmpl->fields.count("body") > 0;
}

// Renders every field of `channel`'s message over `context` (the webhook
// only when `tmpl` has a body).
absl::StatusOr<RenderedMessage> RenderFields(Channel channel, const Template* tmpl,
                                             const Json& context,
                                             const std::map<std::string, std::string>& defaults) {
  absl::StatusOr<mustache::data> data = ToMustache(context, 0);
  if (!data.ok()) return data.status();
  FieldRenderer r(tmpl, *data, defaults);
  RenderedMessage message;
  switch (channel) {
    case Channel::kWebhook: {
      // The rendered text itself is sent (and signed), as the author laid it
      // out; parsing only proves it is JSON.
      WebhookMessage m;
      r.JsonField("body", EscapeJsonString, /*array=*/false, &m.body);
      message = std::move(m);
      break;
    }
    case Channel::kSlack: {
      SlackMessage m;
      m.text = r.Field("text", EscapeSlack);
      if (r.Templated("blocks")) {
        std::string text;
        m.blocks = r.JsonField("blocks", EscapeSlackJson, /*array=*/true, &text);
      }
      message = std::move(m);
      break;
    }
    case Channel::kDiscord: {
      message = DiscordMessage{
          TruncateChars(r.Field("content", EscapeNone), kDiscordMaxContentChars)};
      break;
    }
    case Channel::kEmail: {
      EmailMessage m;
      m.subject = OneLine(r.Field("subject", EscapeNone));
      m.text = r.Field("text", EscapeNone);
      m.html = r.Field("html", EscapeHtml);
      message = std::move(m);
      break;
    }
    case Channel::kPush: {
      message = PushMessage{r.Field("title", EscapeNone), r.Field("body", EscapeNone)};
      break;
    }
  }
  if (absl::Status s = r.Status(channel); !s.ok()) return s;
  return message;
}

}  // namespace

absl::StatusOr<RenderedMessage> RenderForChannel(Channel channel, const Template* tmpl,
                                                 const Notification& n) {
  if (absl::Status s = CheckTemplateChannel(channel, tmpl); !s.ok()) return s;
  if (channel == Channel::kWebhook && !HasWebhookBody(tmpl)) {
    return WebhookMessage{DefaultWebhookBody(n)};
  }
  return RenderFields(channel, tmpl, TemplateContext(n), DefaultTemplateFields(channel));
}

absl::StatusOr<RenderedMessage> RenderContextForChannel(
    Channel channel, const Template* tmpl, const nlohmann::json& context,
    const std::map<std::string, std::string>& defaults, const std::string& default_webhook_body) {
  if (absl::Status s = CheckTemplateChannel(channel, tmpl); !s.ok()) return s;
  if (!context.is_object()) {
    return absl::InvalidArgumentError("template context must be a JSON object");
  }
  if (channel == Channel::kWebhook && !HasWebhookBody(tmpl)) {
    return WebhookMessage{default_webhook_body};
  }
  return RenderFields(channel, tmpl, context, defaults);
}

}  // namespace alerthub
