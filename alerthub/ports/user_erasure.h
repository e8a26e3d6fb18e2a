// What every Store does to the documents it keeps when it erases a user
// (ports/store.h, "Privacy (GDPR)"): pure edits of the stored JSON, which
// each adapter applies inside its own transaction with its own statements,
// so SQLite and PostgreSQL erase exactly the same things.
//
//   nlohmann::json doc = ...;  // notifications.doc
//   if (EraseRecipientFromDoc(doc, user_id) != RecipientErasure::kNotRecipient) {
//     ... UPDATE notifications SET doc = doc.dump() ...
//   }
#ifndef ALERTHUB_PORTS_USER_ERASURE_H_
#define ALERTHUB_PORTS_USER_ERASURE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace alerthub {

// The last_error of a delivery suppressed because its recipient was erased.
inline constexpr absl::string_view kRecipientErased = "recipient erased";

// `user_id` as it appears in a stored notification's "recipients" (its JSON
// string, quotes included). Stores look for it in the documents' text to
// find candidates cheaply, then decide with the functions below.
std::string RecipientNeedle(absl::string_view user_id);

// True when `doc` (NotificationToJson()) lists `user_id` in "recipients".
bool HasRecipient(const nlohmann::json& doc, absl::string_view user_id);

enum class RecipientErasure {
  kNotRecipient,  // `user_id` is not among the recipients: nothing changed
  kRemoved,       // removed; other recipients remain, the content stays
  kBlanked,       // it was the only recipient: title, body, data and tags went too
};

// Removes `user_id` from the "recipients" of `doc` (a notification as
// NotificationToJson() renders it: in notifications.doc, and as the data of
// the message published on kTopicCreated). When no recipient remains, also
// removes "title", "body", "data" and "tags" (NotificationToJson() omits
// them when empty, so the document still decodes).
RecipientErasure EraseRecipientFromDoc(nlohmann::json& doc, absl::string_view user_id);

// Removes a provider's answers from the data of an attempt event
// (kEventDeliveryAttempt): "error", "response", "reason", and each target's
// "target" and "error"; the outcome, codes, timings and ids stay. Returns
// whether anything was removed.
bool ScrubAttemptData(nlohmann::json& data);

// The delivery id an attempt event's data names (its "delivery_id"), or ""
// when it names none.
std::string AttemptDeliveryId(const nlohmann::json& data);

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_USER_ERASURE_H_
