#include "alerthub/delivery/target_resolver.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "alerthub/common/status.h"

namespace alerthub {

bool IsRecipientTargeted(Channel channel) {
  switch (channel) {
    case Channel::kEmail:
    case Channel::kPush:
    case Channel::kSlack:
    case Channel::kDiscord:
      return true;
    case Channel::kWebhook:
      return false;
  }
  return false;
}

absl::Status CheckRecipientAddress(const User& user, Channel channel) {
  absl::string_view missing;
  switch (channel) {
    case Channel::kEmail:
      if (RecipientEmail(user).empty()) missing = "no e-mail address";
      break;
    case Channel::kPush:
      if (user.addresses.fcm_tokens.empty()) {
        missing = "no push device token (addresses.fcm_tokens)";
      }
      break;
    case Channel::kSlack:
      if (user.addresses.slack_user_id.empty()) missing = "no addresses.slack_user_id";
      break;
    case Channel::kDiscord:
      if (user.addresses.discord_user_id.empty()) missing = "no addresses.discord_user_id";
      break;
    case Channel::kWebhook:
      break;
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("recipient ", user.id, " has ", missing, " for channel ", ChannelName(channel)));
}

const std::string& RecipientEmail(const User& user) {
  return user.addresses.email.empty() ? user.email : user.addresses.email;
}

absl::Status AddTargets(Store& store, absl::string_view tenant_id,
                        absl::Span<const std::string> integration_ids,
                        absl::Span<const Channel> channels, TargetResolver::Decision* decision,
                        std::vector<std::string>* skipped) {
  std::set<std::string> seen;
  for (const TargetResolver::Target& t : decision->targets) seen.insert(t.integration.id);
  auto add = [&](Integration i) {
    if (seen.insert(i.id).second) {
      decision->targets.push_back({.integration = std::move(i), .recipient = "", .held_until = {}});
    }
  };
  for (const std::string& id : integration_ids) {
    absl::StatusOr<Integration> i = store.GetIntegration(tenant_id, id);
    if (absl::IsNotFound(i.status())) {
      skipped->push_back(absl::StrCat("integration ", id, " does not exist"));
      continue;
    }
    ALERTHUB_RETURN_IF_ERROR(i.status());
    if (!i->enabled) {
      skipped->push_back(absl::StrCat("integration ", id, " is disabled"));
      continue;
    }
    add(*std::move(i));
  }
  for (Channel c : channels) {
    bool any = false;
    PageRequest page{.cursor = "", .limit = 500};
    while (true) {
      ALERTHUB_ASSIGN_OR_RETURN(
          Page<Integration> p,
          store.ListIntegrations(
              tenant_id, IntegrationFilter{.channel = c, .enabled = true, .is_default = std::nullopt},
              page));
      if (p.items.empty()) break;
      any = true;
      page.cursor = p.items.back().id;
      for (Integration& i : p.items) add(std::move(i));
      if (!p.has_more) break;
    }
    if (!any) skipped->push_back(absl::StrCat("no enabled ", ChannelName(c), " integration"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TargetResolver::Decision> DefaultTargetResolver::Resolve(const Notification& n) {
  Decision decision;
  std::vector<std::string> skipped;
  ALERTHUB_RETURN_IF_ERROR(
      AddTargets(*store_, n.tenant_id, n.integration_ids, n.channels, &decision, &skipped));
  if (n.integration_ids.empty() && n.channels.empty()) {
    // The tenant's enabled default integrations.
    PageRequest page{.cursor = "", .limit = 500};
    while (true) {
      ALERTHUB_ASSIGN_OR_RETURN(
          Page<Integration> p,
          store_->ListIntegrations(
              n.tenant_id,
              IntegrationFilter{.channel = std::nullopt, .enabled = true, .is_default = true},
              page));
      for (Integration& i : p.items) {
        decision.targets.push_back(
            {.integration = std::move(i), .recipient = "", .held_until = {}});
      }
      if (!p.has_more || p.items.empty()) break;
      page.cursor = decision.targets.back().integration.id;
    }
    if (decision.targets.empty()) {
      skipped.push_back(
          "the notification names no integration_ids or channels and the tenant has no "
          "enabled default integration");
    }
  }
  if (decision.targets.empty()) decision.reason = absl::StrJoin(skipped, "; ");
  return decision;
}

}  // namespace alerthub
