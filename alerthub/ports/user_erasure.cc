#include "alerthub/ports/user_erasure.h"

#include <string>

namespace alerthub {

std::string RecipientNeedle(absl::string_view user_id) {
  return nlohmann::json(std::string(user_id)).dump();
}

bool HasRecipient(const nlohmann::json& doc, absl::string_view user_id) {
  if (!doc.is_object()) return false;
  auto it = doc.find("recipients");
  if (it == doc.end() || !it->is_array()) return false;
  for (const nlohmann::json& r : *it) {
    if (r.is_string() && r.get_ref<const std::string&>() == user_id) return true;
  }
  return false;
}

RecipientErasure EraseRecipientFromDoc(nlohmann::json& doc, absl::string_view user_id) {
  if (!HasRecipient(doc, user_id)) return RecipientErasure::kNotRecipient;
  nlohmann::json& recipients = doc["recipients"];
  nlohmann::json kept = nlohmann::json::array();
  for (nlohmann::json& r : recipients) {
    if (r.is_string() && r.get_ref<const std::string&>() == user_id) continue;
    kept.push_back(std::move(r));
  }
  if (!kept.empty()) {
    recipients = std::move(kept);
    return RecipientErasure::kRemoved;
  }
  for (const char* field : {"recipients", "title", "body", "data", "tags"}) doc.erase(field);
  return RecipientErasure::kBlanked;
}

bool ScrubAttemptData(nlohmann::json& data) {
  if (!data.is_object()) return false;
  bool changed = false;
  for (const char* field : {"error", "response", "reason"}) {
    changed = data.erase(field) > 0 || changed;
  }
  auto targets = data.find("targets");
  if (targets != data.end() && targets->is_array()) {
    for (nlohmann::json& t : *targets) {
      if (!t.is_object()) continue;
      for (const char* field : {"target", "error"}) changed = t.erase(field) > 0 || changed;
    }
  }
  return changed;
}

std::string AttemptDeliveryId(const nlohmann::json& data) {
  if (!data.is_object()) return "";
  auto it = data.find("delivery_id");
  if (it == data.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

}  // namespace alerthub
