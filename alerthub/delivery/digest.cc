#include "alerthub/delivery/digest.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/common/log.h"
#include "alerthub/common/status.h"
#include "alerthub/common/time.h"
#include "alerthub/delivery/templates.h"
#include "alerthub/model/event.h"

namespace alerthub {
namespace {

constexpr absl::string_view kSource = "/alerthub/delivery";

// Items' own fields (title, body, ...) shadow the top level's inside
// {{#notifications}}, so the top level has no `title` an untitled item
// would fall back to: it is `summary`.
constexpr char kItemHeadline[] = "{{#title}}{{title}}{{/title}}{{^title}}{{type}}{{/title}}";

std::pair<std::string, std::string> SplitDigestKey(absl::string_view key) {
  const size_t slash = key.find('/');
  if (slash == absl::string_view::npos) return {std::string(key), ""};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

Priority HighestPriority(const std::vector<Notification>& notifications) {
  Priority p = Priority::kMin;
  for (const Notification& n : notifications) p = std::max(p, n.priority);
  return p;
}

// The attempt event's data for member `d` of a summary of `count`.
nlohmann::json AttemptData(const Delivery& d, absl::string_view outcome, size_t count) {
  return {{"delivery_id", d.id},
          {"integration_id", d.integration_id},
          {"channel", std::string(ChannelName(d.channel))},
          {"attempt", d.attempts + 1},
          {"outcome", std::string(outcome)},
          {"digest", {{"key", d.digest_key}, {"count", count}}}};
}

std::string RenderFailure(const absl::Status& s) {
  std::string reason = absl::StrCat("digest template failed to render: ", s.message());
  for (const FieldError& e : FieldErrorsOf(s)) absl::StrAppend(&reason, "; ", e.field, ": ", e.message);
  return reason;
}

// Calls `decide(d, w)` for each member `d` whose write `w` is not decided
// yet (its delivery_id is empty), with w's tenant_id and delivery_id set.
template <typename Decide>
void DecideRest(const std::vector<Delivery>& members, std::vector<AttemptWrite>& writes,
                Decide decide) {
  for (size_t i = 0; i < members.size(); ++i) {
    if (!writes[i].delivery_id.empty()) continue;
    writes[i].tenant_id = members[i].tenant_id;
    writes[i].delivery_id = members[i].id;
    decide(i, members[i], writes[i]);
  }
}

}  // namespace

DigestWindow DigestWindowOf(const DigestRequest& request) {
  return DigestWindow{.group_wait = request.group_wait,
                      .group_interval = request.group_interval};
}

void HoldForDigest(const DigestRequest& request, RoutingWrite* w) {
  const std::string key = DigestKey(request);
  for (Delivery& d : w->deliveries) {
    d.status = DeliveryStatus::kHeld;
    d.digest_key = key;
  }
  w->digest = DigestWindowOf(request);
  w->event.data["digest"] = {
      {"rule_id", request.rule_id},
      {"group_key", request.group_key},
      {"group_wait_s", absl::ToInt64Seconds(request.group_wait)},
      {"group_interval_s", absl::ToInt64Seconds(request.group_interval)}};
}

nlohmann::json DigestContext(absl::string_view digest_key,
                             const std::vector<Notification>& notifications) {
  auto [rule_id, group_key] = SplitDigestKey(digest_key);
  nlohmann::json items = nlohmann::json::array();
  for (const Notification& n : notifications) items.push_back(TemplateContext(n));
  const size_t count = notifications.size();
  return {{"count", count},
          {"rule_id", rule_id},
          {"group_key", group_key},
          {"digest_key", std::string(digest_key)},
          {"summary", absl::StrCat(count, count == 1 ? " notification" : " notifications")},
          {"priority", std::string(PriorityName(HighestPriority(notifications)))},
          {"notifications", std::move(items)}};
}

const std::map<std::string, std::string>& DefaultDigestFields(Channel channel) {
  static const auto* const kNone = new std::map<std::string, std::string>();
  static const auto* const kSlack = new std::map<std::string, std::string>{
      {"text", absl::StrCat("*{{summary}}*{{#group_key}} ({{group_key}}){{/group_key}}\n"
                            "{{#notifications}}• ",
                            kItemHeadline, "{{#body}}: {{body}}{{/body}}\n{{/notifications}}")},
  };
  static const auto* const kDiscord = new std::map<std::string, std::string>{
      {"content", absl::StrCat("**{{summary}}**{{#group_key}} ({{group_key}}){{/group_key}}\n"
                               "{{#notifications}}- ",
                               kItemHeadline, "{{#body}}: {{body}}{{/body}}\n{{/notifications}}")},
  };
  static const auto* const kEmail = new std::map<std::string, std::string>{
      {"subject", "{{summary}}{{#group_key}}: {{group_key}}{{/group_key}}"},
      {"text", absl::StrCat("{{#notifications}}", kItemHeadline,
                            "\n{{#body}}{{body}}\n{{/body}}"
                            "{{type}} | priority {{priority}} | {{id}}\n\n{{/notifications}}")},
      {"html", absl::StrCat("<!DOCTYPE html>\n<html><body>\n<h2>{{summary}}</h2>\n<ul>\n"
                            "{{#notifications}}<li><strong>",
                            kItemHeadline,
                            "</strong>{{#body}}<p style=\"white-space: pre-wrap\">{{body}}</p>"
                            "{{/body}}<p style=\"color: #888888; font-size: 12px\">"
                            "{{type}} | priority {{priority}} | {{id}}</p></li>\n"
                            "{{/notifications}}</ul>\n</body></html>\n")},
  };
  static const auto* const kPush = new std::map<std::string, std::string>{
      {"title", "{{summary}}"},
      {"body", absl::StrCat("{{#notifications}}", kItemHeadline, "\n{{/notifications}}")},
  };
  // In Channel's order (1-5).
  static const std::map<std::string, std::string>* const kByChannel[] = {kNone, kSlack, kDiscord,
                                                                         kEmail, kPush};
  const int i = static_cast<int>(channel) - 1;
  return i >= 0 && i < 5 ? *kByChannel[i] : *kNone;
}

absl::StatusOr<RenderedMessage> RenderDigest(Channel channel, const Template* tmpl,
                                             absl::string_view digest_key,
                                             const std::vector<Notification>& notifications) {
  const nlohmann::json context = DigestContext(digest_key, notifications);
  std::string webhook_body;
  if (channel == Channel::kWebhook && (tmpl == nullptr || tmpl->fields.count("body") == 0)) {
    nlohmann::json items = nlohmann::json::array();
    for (const Notification& n : notifications) items.push_back(NotificationToJson(n));
    nlohmann::json body = {{"type", "alerthub.digest"},
                           {"rule_id", context["rule_id"]},
                           {"group_key", context["group_key"]},
                           {"digest_key", context["digest_key"]},
                           {"count", context["count"]},
                           {"notifications", std::move(items)}};
    webhook_body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return RenderContextForChannel(channel, tmpl, context, DefaultDigestFields(channel),
                                 webhook_body);
}

// --- DigestFlusher -------------------------------------------------------------------

struct DigestFlusher::Flush {
  // Claimed together, oldest first.
  std::vector<Delivery> members;
  // Per member: its notification (a stub with id and tenant when it no
  // longer exists: `missing`).
  std::vector<Notification> notifications;
  std::vector<bool> missing;
  // Per member: the attempt to record; empty delivery_id until decided.
  std::vector<AttemptWrite> writes;
  bool gone = false;  // 410: disable the integration
};

DigestFlusher::DigestFlusher(DigestFlusherDeps deps) : deps_(std::move(deps)) {}

void DigestFlusher::FailAll(Flush& f, const std::string& reason) {
  const absl::Time now = deps_.clock->Now();
  DecideRest(f.members, f.writes, [&](size_t i, const Delivery& d, AttemptWrite& w) {
    w.status = DeliveryStatus::kFailed;
    w.last_error = reason;
    nlohmann::json data = AttemptData(d, "permanent", f.members.size());
    data["error"] = reason;
    data["dead_lettered"] = true;
    w.attempt_event =
        MakeNotificationEvent(f.notifications[i], kEventDeliveryAttempt, kSource, now, data);
  });
}

RetryDecision DigestFlusher::Decide(const Integration& integration, int attempt,
                                    const SendResult& r) {
  RetryPolicy policy = deps_.retry;
  if (!integration.retry.is_null()) {
    absl::StatusOr<RetryPolicy> own = RetryPolicyFromJson(integration.retry);
    if (own.ok()) policy = *std::move(own);
  }
  absl::MutexLock lock(&rng_mu_);
  return NextAttempt(policy, attempt, r.outcome, r.retry_after, deps_.clock->Now(), rng_);
}

absl::Status DigestFlusher::Send(Flush& f, absl::string_view traceparent) {
  // The summary lists the members whose notification still exists.
  std::vector<Notification> listed;
  const Delivery* lead = nullptr;  // the oldest listed member: its id is the webhook-id
  for (size_t i = 0; i < f.members.size(); ++i) {
    if (f.missing[i]) continue;
    if (lead == nullptr) lead = &f.members[i];
    listed.push_back(f.notifications[i]);
  }
  if (lead == nullptr) return absl::OkStatus();

  absl::StatusOr<Integration> sealed = deps_.store->GetIntegration(lead->tenant_id,
                                                                   lead->integration_id);
  if (absl::IsNotFound(sealed.status())) {
    FailAll(f, absl::StrCat("integration ", lead->integration_id, " was deleted"));
    return absl::OkStatus();
  }
  ALERTHUB_RETURN_IF_ERROR(sealed.status());
  if (!sealed->enabled) {
    FailAll(f, absl::StrCat("integration ", lead->integration_id, " is disabled"));
    return absl::OkStatus();
  }
  absl::StatusOr<Integration> integration = deps_.catalog->OpenIntegration(*std::move(sealed));
  if (!integration.ok()) {
    FailAll(f, std::string(integration.status().message()));
    return absl::OkStatus();
  }
  // A group of one recipient goes to the address they have now.
  std::optional<User> recipient;
  if (!lead->recipient.empty()) {
    ALERTHUB_ASSIGN_OR_RETURN(std::vector<Recipient> users,
                              deps_.store->GetRecipients(lead->tenant_id, {lead->recipient}));
    if (users.empty()) {
      FailAll(f, absl::StrCat("recipient ", lead->recipient, " no longer exists"));
      return absl::OkStatus();
    }
    recipient = std::move(users.front().user);
  }
  std::optional<Template> tmpl;
  absl::StatusOr<Template> found =
      deps_.store->FindTemplate(lead->tenant_id, kDigestTemplateName, lead->channel);
  if (found.ok()) {
    tmpl = *std::move(found);
  } else if (!absl::IsNotFound(found.status())) {
    return found.status();
  }
  absl::StatusOr<RenderedMessage> message =
      RenderDigest(lead->channel, tmpl.has_value() ? &*tmpl : nullptr, lead->digest_key, listed);
  if (!message.ok()) {
    FailAll(f, RenderFailure(message.status()));
    return absl::OkStatus();
  }

  // What the senders see of "the notification": the summary.
  const absl::Time start = deps_.clock->Now();
  Notification summary;
  summary.id = lead->notification_id;
  summary.tenant_id = lead->tenant_id;
  summary.type = "alerthub.digest";
  summary.title = DigestContext(lead->digest_key, listed)["summary"].get<std::string>();
  summary.priority = HighestPriority(listed);
  summary.status = NotificationStatus::kDelivering;
  summary.created_at = summary.updated_at = start;

  const int attempt = lead->attempts + 1;
  SendResult result = deps_.sender->Send({.integration = &*integration,
                                          .delivery = lead,
                                          .notification = &summary,
                                          .message = &*message,
                                          .attempt = attempt,
                                          .traceparent = std::string(traceparent),
                                          .recipient = recipient.has_value() ? &*recipient
                                                                             : nullptr});
  if (deps_.on_attempt) deps_.on_attempt(lead->channel, result);
  const RetryDecision decision = Decide(*integration, attempt, result);
  f.gone = result.outcome == AttemptOutcome::kGone;

  const absl::Time now = deps_.clock->Now();
  DecideRest(f.members, f.writes, [&](size_t i, const Delivery& d, AttemptWrite& w) {
    if (result.outcome == AttemptOutcome::kSuccess) {
      w.status = DeliveryStatus::kDelivered;
    } else {
      w.status = decision.retry ? DeliveryStatus::kPending : DeliveryStatus::kFailed;
      if (decision.retry) w.next_attempt_at = decision.next_attempt_at;
      w.last_error = result.error;
    }
    nlohmann::json data = AttemptData(d, AttemptOutcomeName(result.outcome), listed.size());
    data["digest"]["sent_as"] = lead->id;
    data["latency_ms"] = absl::ToDoubleMilliseconds(result.latency);
    if (result.code != 0) data["code"] = result.code;
    if (!result.error.empty()) data["error"] = result.error;
    // Senders keep at most 1 KiB of an answer (channel_sender.h).
    if (!result.response.empty()) data["response"] = result.response;
    if (w.status == DeliveryStatus::kPending) {
      data["next_attempt_at"] = FormatRfc3339(*w.next_attempt_at);
    }
    if (w.status == DeliveryStatus::kFailed) {
      data["dead_lettered"] = true;
      data["reason"] = decision.reason;
    }
    w.attempt_event = MakeNotificationEvent(f.notifications[i], kEventDeliveryAttempt, kSource,
                                            now, std::move(data), std::string(traceparent));
  });
  return absl::OkStatus();
}

absl::Status DigestFlusher::ProcessTask(const Task& task, absl::string_view tenant_id,
                                        absl::string_view delivery_id,
                                        absl::string_view traceparent) {
  absl::StatusOr<DigestClaim> claim =
      deps_.store->ClaimDigest(tenant_id, delivery_id, deps_.lease);
  if (absl::IsNotFound(claim.status())) return deps_.queue->Ack(task);  // gone: nothing to do
  ALERTHUB_RETURN_IF_ERROR(claim.status());
  switch (claim->result) {
    case DeliveryClaim::Result::kFinished: {
      // Sent with its group by another member's task (or dead): as the
      // dispatcher does, a dead delivery's task reaches the dead-letter queue.
      const Delivery& d = claim->deliveries.front();
      if (d.status == DeliveryStatus::kFailed) return deps_.queue->DeadLetter(task, d.last_error);
      return deps_.queue->Ack(task);
    }
    case DeliveryClaim::Result::kBusy:
      return deps_.queue->Retry(task, deps_.clock->Now() + deps_.lease, "digest is being sent");
    case DeliveryClaim::Result::kNotDue:
      return deps_.queue->Retry(task, *claim->deliveries.front().next_attempt_at,
                                "digest not due yet");
    case DeliveryClaim::Result::kClaimed:
      break;
  }

  Flush f;
  f.members = std::move(claim->deliveries);
  f.writes.resize(f.members.size());
  for (size_t i = 0; i < f.members.size(); ++i) {
    const Delivery& d = f.members[i];
    absl::StatusOr<Notification> n = deps_.store->GetNotification(d.tenant_id, d.notification_id);
    if (!n.ok() && !absl::IsNotFound(n.status())) return n.status();  // the lease brings it back
    f.missing.push_back(!n.ok());
    if (n.ok()) {
      f.notifications.push_back(*std::move(n));
    } else {
      Notification stub;
      stub.id = d.notification_id;
      stub.tenant_id = d.tenant_id;
      f.notifications.push_back(std::move(stub));
    }
    if (deps_.publish) deps_.publish(f.notifications.back(), claim->notifications[i]);
  }
  for (size_t i = 0; i < f.members.size(); ++i) {
    if (!f.missing[i]) continue;
    Flush one;  // fail the member alone
    one.members = {f.members[i]};
    one.notifications = {f.notifications[i]};
    one.writes.resize(1);
    FailAll(one, "the notification no longer exists");
    f.writes[i] = std::move(one.writes[0]);
  }
  ALERTHUB_RETURN_IF_ERROR(Send(f, traceparent));

  // One transaction for every member's outcome.
  ALERTHUB_ASSIGN_OR_RETURN(std::vector<absl::StatusOr<AttemptOutcomeRecord>> records,
                            deps_.store->RecordAttempts(f.writes));
  std::optional<DeliveryStatus> named_status;
  std::optional<absl::Time> named_next;
  std::string named_error;
  for (size_t i = 0; i < f.members.size(); ++i) {
    if (!records[i].ok()) {
      // Claimed again after our lease ran out: that claim records it.
      Log(LogLevel::kWarning, "digest: attempt not recorded",
          {{"delivery_id", f.members[i].id}, {"error", records[i].status().ToString()}});
      continue;
    }
    if (deps_.publish) deps_.publish(f.notifications[i], records[i]->notification);
    if (f.members[i].id == delivery_id) {
      named_status = f.writes[i].status;
      named_next = f.writes[i].next_attempt_at;
      named_error = f.writes[i].last_error;
    }
  }
  if (f.gone) {
    const Delivery& d = f.members.front();
    absl::Status s = deps_.catalog->DisableIntegration(d.tenant_id, d.integration_id);
    Log(LogLevel::kWarning, "integration disabled: its endpoint answered 410 Gone",
        {{"integration_id", d.integration_id},
         {"tenant_id", d.tenant_id},
         {"disable_status", s.ToString()}});
  }
  if (!named_status.has_value()) return deps_.queue->Ack(task);  // recorded by another claim
  switch (*named_status) {
    case DeliveryStatus::kDelivered:
      return deps_.queue->Ack(task);
    case DeliveryStatus::kPending:
      return deps_.queue->Retry(task, *named_next, named_error);
    default:
      return deps_.queue->DeadLetter(task, named_error);
  }
}

}  // namespace alerthub
