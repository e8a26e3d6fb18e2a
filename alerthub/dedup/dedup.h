// Deduplication of submissions.
//
// Two mechanisms, in this order of precedence (ARCHITECTURE §3):
//   1. An explicit key: the notification's `dedup_key`, else the request's
//      `Idempotency-Key`. The store's unique (tenant, dedup_key) is the source
//      of truth and holds the key forever; a repeat returns the original id.
//   2. Otherwise a content hash inside a per-tenant window (default 300 s; 0
//      disables it): an identical notification submitted again within the
//      window returns the first one's id. The window lives in Kv; a hit is
//      confirmed in the store, so a Kv entry whose notification never
//      committed (a crash between the two) cannot swallow a retry.
//
//   ContentDeduplicator dedup(kv, store);
//   std::string hash = ContentHash(n);
//   absl::StatusOr<std::optional<std::string>> original = dedup.Find(tenant, hash);
//   ... commit ...
//   dedup.Remember(tenant, hash, id, window);
#ifndef ALERTHUB_DEDUP_DEDUP_H_
#define ALERTHUB_DEDUP_DEDUP_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/model/notification.h"
#include "alerthub/ports/kv.h"
#include "alerthub/ports/store.h"

namespace alerthub {

inline constexpr absl::Duration kDefaultDedupWindow = absl::Seconds(300);

// SHA-256 (hex) over a canonical form of the submitter's content fields:
// type, title, body, priority, data (keys sorted), tags, recipients,
// channels, integration_ids, template and scheduled_at. Equal content gives
// equal hashes whatever the JSON key order or whitespace of the request.
std::string ContentHash(const Notification& n);

// The explicit dedup key of a submission: `n.dedup_key` when set, else
// `idempotency_key` (possibly empty).
absl::string_view ExplicitDedupKey(const Notification& n,
                                   absl::string_view idempotency_key);

// Content-hash window on Kv, confirmed in the store. Thread-safe. `kv` and
// `store` must outlive it.
class ContentDeduplicator {
 public:
  ContentDeduplicator(Kv* kv, Store* store) : kv_(kv), store_(store) {}

  // The id of an earlier notification of `tenant_id` with this content hash
  // inside the window, if it exists in the store. Kv being unavailable is not
  // an error: dedup then finds nothing (ingest keeps working).
  absl::StatusOr<std::optional<std::string>> Find(absl::string_view tenant_id,
                                                  absl::string_view hash);

  // Records that `id` carries `hash` for `window` (Kv::WriteBehind). Best
  // effort: failures are ignored (the cost is a missed duplicate, never a
  // lost notification). A Find() starting after this returns sees it.
  void Remember(absl::string_view tenant_id, absl::string_view hash,
                absl::string_view id, absl::Duration window);
  // Remember()'s write, for callers that hand several writes to
  // Kv::WriteBehind at once; nullopt when `window` is not positive.
  static std::optional<KvWrite> RememberWrite(absl::string_view tenant_id,
                                              absl::string_view hash, absl::string_view id,
                                              absl::Duration window);

 private:
  Kv* const kv_;
  Store* const store_;
};

}  // namespace alerthub

#endif  // ALERTHUB_DEDUP_DEDUP_H_
