#include "alerthub/ports/store.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

namespace alerthub {
namespace {

// The default batch: messages claimed with a lease; Finish marks the sent
// ones, and the others come back when the lease passes.
class LeasedOutboxBatch final : public OutboxBatch {
 public:
  LeasedOutboxBatch(Store* store, std::vector<OutboxRecord> records)
      : OutboxBatch(std::move(records)), store_(store) {}

  absl::Status Finish(absl::Span<const int64_t> sent) override {
    return store_->MarkOutboxSent(SeqsOfThisBatch(sent));
  }

 private:
  Store* const store_;
};

}  // namespace

std::vector<int64_t> OutboxBatch::SeqsOfThisBatch(absl::Span<const int64_t> sent) const {
  std::vector<int64_t> ours;
  ours.reserve(sent.size());
  for (int64_t seq : sent) {
    // records_ is in seq order.
    auto it = std::lower_bound(records_.begin(), records_.end(), seq,
                               [](const OutboxRecord& r, int64_t s) { return r.seq < s; });
    if (it != records_.end() && it->seq == seq) ours.push_back(seq);
  }
  return ours;
}

// ClaimOutbox has no starting point; `after_seq` is only a hint.
absl::StatusOr<std::unique_ptr<OutboxBatch>> Store::TakeOutbox(int max, absl::Duration lease,
                                                               int64_t /*after_seq*/) {
  absl::StatusOr<std::vector<OutboxRecord>> claimed = ClaimOutbox(max, lease);
  if (!claimed.ok()) return claimed.status();
  return std::make_unique<LeasedOutboxBatch>(this, *std::move(claimed));
}

}  // namespace alerthub
