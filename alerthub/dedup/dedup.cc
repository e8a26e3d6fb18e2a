#include "alerthub/dedup/dedup.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alerthub/common/crypto.h"
#include "alerthub/common/time.h"

namespace alerthub {
namespace {

// Appends `s` with its length so that field boundaries are unambiguous.
void Field(std::string* out, absl::string_view s) {
  absl::StrAppend(out, s.size(), ":", s, ";");
}

std::string KvKey(absl::string_view tenant_id, absl::string_view hash) {
  return absl::StrCat("dd:", tenant_id, ":", hash);
}

}  // namespace

std::string ContentHash(const Notification& n) {
  std::string canon;
  canon.reserve(256 + n.title.size() + n.body.size());
  Field(&canon, n.type);
  Field(&canon, n.title);
  Field(&canon, n.body);
  absl::StrAppend(&canon, static_cast<int>(n.priority), ";");
  // nlohmann::json objects are std::map-backed: dump() sorts keys.
  Field(&canon, n.data.is_null() ? "{}" : n.data.dump());
  absl::StrAppend(&canon, "t", n.tags.size(), ";");
  for (const auto& [k, v] : n.tags) {
    Field(&canon, k);
    Field(&canon, v);
  }
  absl::StrAppend(&canon, "r", n.recipients.size(), ";");
  for (const std::string& r : n.recipients) Field(&canon, r);
  absl::StrAppend(&canon, "c", n.channels.size(), ";");
  for (Channel c : n.channels) absl::StrAppend(&canon, static_cast<int>(c), ",");
  absl::StrAppend(&canon, "i", n.integration_ids.size(), ";");
  for (const std::string& id : n.integration_ids) Field(&canon, id);
  Field(&canon, n.template_name);
  Field(&canon, n.scheduled_at.has_value() ? FormatRfc3339(*n.scheduled_at) : "");
  return HexEncode(Sha256(canon));
}

absl::string_view ExplicitDedupKey(const Notification& n,
                                   absl::string_view idempotency_key) {
  return n.dedup_key.empty() ? idempotency_key : absl::string_view(n.dedup_key);
}

absl::StatusOr<std::optional<std::string>> ContentDeduplicator::Find(
    absl::string_view tenant_id, absl::string_view hash) {
  absl::StatusOr<std::optional<std::string>> hit = kv_->Get(KvKey(tenant_id, hash));
  if (!hit.ok() || !hit->has_value()) return std::optional<std::string>();
  absl::StatusOr<Notification> original = store_->GetNotification(tenant_id, **hit);
  if (original.ok()) return std::optional<std::string>(original->id);
  if (original.status().code() == absl::StatusCode::kNotFound) {
    return std::optional<std::string>();
  }
  return original.status();
}

std::optional<KvWrite> ContentDeduplicator::RememberWrite(absl::string_view tenant_id,
                                                         absl::string_view hash,
                                                         absl::string_view id,
                                                         absl::Duration window) {
  if (window <= absl::ZeroDuration()) return std::nullopt;
  return KvWrite::Set(KvKey(tenant_id, hash), std::string(id), window);
}

void ContentDeduplicator::Remember(absl::string_view tenant_id, absl::string_view hash,
                                   absl::string_view id, absl::Duration window) {
  std::optional<KvWrite> w = RememberWrite(tenant_id, hash, id, window);
  if (!w.has_value()) return;
  std::vector<KvWrite> writes;
  writes.push_back(*std::move(w));
  kv_->WriteBehind(std::move(writes));
}

}  // namespace alerthub
