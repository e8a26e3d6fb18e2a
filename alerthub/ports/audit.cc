#include "alerthub/ports/audit.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/common/time.h"
#include "alerthub/common/uuid.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/store.h"

namespace alerthub {
namespace {

thread_local AuditScope* current_scope = nullptr;

}  // namespace

nlohmann::json AuditRecordToJson(const AuditRecord& r) {
  return {{"id", r.id},
          {"tenant_id", r.tenant_id},
          {"actor", r.actor},
          {"action", r.action},
          {"target", r.target},
          {"time", FormatRfc3339(r.time)},
          {"request_id", r.request_id},
          {"before", r.before},
          {"after", r.after}};
}

absl::StatusOr<AuditRecord> AuditRecordFromJson(const nlohmann::json& j) {
  auto text = [&](const char* key, std::string* out) -> absl::Status {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
      return absl::DataLossError(absl::StrCat("audit record: \"", key, "\" is not a string"));
    }
    *out = it->get<std::string>();
    return absl::OkStatus();
  };
  if (!j.is_object()) return absl::DataLossError("audit record: not an object");
  AuditRecord r;
  std::string time;
  for (auto [key, out] : {std::pair{"id", &r.id}, {"tenant_id", &r.tenant_id},
                          {"actor", &r.actor}, {"action", &r.action},
                          {"target", &r.target}, {"request_id", &r.request_id},
                          {"time", &time}}) {
    absl::Status s = text(key, out);
    if (!s.ok()) return s;
  }
  absl::StatusOr<absl::Time> t = ParseRfc3339(time);
  if (!t.ok()) return absl::DataLossError(absl::StrCat("audit record: bad time: ", time));
  r.time = *t;
  r.before = j.value("before", nlohmann::json());
  r.after = j.value("after", nlohmann::json());
  return r;
}

AuditScope::AuditScope(Store* store, Clock* clock, const AuditActor& who,
                       absl::string_view action, absl::string_view target)
    : store_(store), outer_(current_scope) {
  record_.time = clock->Now();
  record_.id = NewUuidV7(record_.time);
  record_.tenant_id = who.tenant_id;
  record_.actor = who.actor;
  record_.request_id = who.request_id;
  record_.action = std::string(action);
  record_.target = std::string(target);
  current_scope = this;
}

AuditScope::~AuditScope() { current_scope = outer_; }

AuditScope* AuditScope::Current() { return current_scope; }

void AuditScope::Describe(absl::string_view target, nlohmann::json before,
                          nlohmann::json after) {
  AuditScope* scope = current_scope;
  if (scope == nullptr || scope->written_) return;
  if (!target.empty()) scope->record_.target = std::string(target);
  scope->record_.before = std::move(before);
  scope->record_.after = std::move(after);
}

absl::Status AuditScope::Finish(absl::Status result) {
  if (!result.ok() || written_) return result;
  // Written from here on, so the append's own transaction does not insert
  // the record a second time.
  written_ = true;
  absl::Status s = store_->AppendAuditRecord(record_);
  if (!s.ok()) {
    written_ = false;
    return absl::Status(s.code(), absl::StrCat("recording the audit record: ", s.message()));
  }
  return result;
}

}  // namespace alerthub
