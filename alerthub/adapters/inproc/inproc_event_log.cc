#include "alerthub/adapters/inproc/inproc_event_log.h"

#include <atomic>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace alerthub {
namespace {

// One group member. Its mutex serializes its handler calls and lets the
// Subscription's destructor wait for a call in flight.
struct Member {
  absl::Mutex mu;
  bool closed ABSL_GUARDED_BY(mu) = false;
  EventLog::BatchHandler handler;
};

struct Group {
  std::vector<std::shared_ptr<Member>> members;
  std::shared_ptr<std::atomic<size_t>> next = std::make_shared<std::atomic<size_t>>(0);
};

class InprocEventLog;

class InprocSubscription final : public Subscription {
 public:
  InprocSubscription(InprocEventLog* log, std::string topic, std::string group,
                     std::shared_ptr<Member> member)
      : log_(log), topic_(std::move(topic)), group_(std::move(group)),
        member_(std::move(member)) {}
  ~InprocSubscription() override;

 private:
  InprocEventLog* const log_;
  const std::string topic_;
  const std::string group_;
  const std::shared_ptr<Member> member_;
};

class InprocEventLog final : public EventLog {
 public:
  // Each topic's messages go to its handlers in one call, in publication
  // order (messages of different topics have no order between them).
  std::vector<absl::Status> PublishReliable(
      absl::Span<const EventMessage> messages) override {
    std::vector<absl::Status> out(messages.size());
    std::map<absl::string_view, std::vector<size_t>> by_topic;
    for (size_t i = 0; i < messages.size(); ++i) by_topic[messages[i].topic].push_back(i);
    for (const auto& [topic, indexes] : by_topic) {
      std::vector<absl::Status> statuses = PublishTopic(topic, messages, indexes);
      for (size_t k = 0; k < indexes.size(); ++k) out[indexes[k]] = std::move(statuses[k]);
    }
    return out;
  }
  using EventLog::PublishReliable;

  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      absl::string_view topic, absl::string_view group, Handler handler) override {
    if (!handler) return absl::InvalidArgumentError("Subscribe needs a handler");
    return SubscribeBatch(topic, group,
                          [handler = std::move(handler)](absl::Span<const EventMessage> ms) {
                            std::vector<absl::Status> out;
                            out.reserve(ms.size());
                            for (const EventMessage& m : ms) out.push_back(handler(m));
                            return out;
                          });
  }

  absl::StatusOr<std::unique_ptr<Subscription>> SubscribeBatch(
      absl::string_view topic, absl::string_view group, BatchHandler handler) override {
    if (topic.empty()) return absl::InvalidArgumentError("topic must not be empty");
    if (group.empty()) return absl::InvalidArgumentError("group must not be empty");
    if (!handler) return absl::InvalidArgumentError("SubscribeBatch needs a handler");
    auto member = std::make_shared<Member>();
    member->handler = std::move(handler);
    {
      absl::MutexLock lock(&mu_);
      topics_[std::string(topic)][std::string(group)].members.push_back(member);
    }
    return std::unique_ptr<Subscription>(new InprocSubscription(
        this, std::string(topic), std::string(group), std::move(member)));
  }

  absl::Status Ping() override { return absl::OkStatus(); }

  void Unsubscribe(const std::string& topic, const std::string& group,
                   const std::shared_ptr<Member>& member) {
    {
      absl::MutexLock lock(&mu_);
      auto t = topics_.find(topic);
      if (t != topics_.end()) {
        auto g = t->second.find(group);
        if (g != t->second.end()) {
          auto& v = g->second.members;
          for (auto it = v.begin(); it != v.end(); ++it) {
            if (*it == member) {
              v.erase(it);
              break;
            }
          }
          if (v.empty()) t->second.erase(g);
        }
        if (t->second.empty()) topics_.erase(t);
      }
    }
    absl::MutexLock lock(&member->mu);
    member->closed = true;
  }

 private:
  // Delivers messages[indexes] (all of `topic`, in order) to one member of
  // every group, in one handler call per group; one status per index.
  std::vector<absl::Status> PublishTopic(absl::string_view topic,
                                         absl::Span<const EventMessage> messages,
                                         const std::vector<size_t>& indexes) {
    std::vector<absl::Status> result(indexes.size());
    // Pick one member per group now; call handlers without holding mu_.
    std::vector<std::pair<std::string, std::vector<std::shared_ptr<Member>>>> targets;
    std::vector<size_t> starts;
    {
      absl::MutexLock lock(&mu_);
      auto t = topics_.find(std::string(topic));
      if (t == topics_.end()) return result;
      for (auto& [name, group] : t->second) {
        targets.emplace_back(name, group.members);
        starts.push_back(group.next->fetch_add(1, std::memory_order_relaxed));
      }
    }
    // The handlers take a contiguous span: copy only when the indexes are
    // not already one.
    std::vector<EventMessage> gathered;
    absl::Span<const EventMessage> batch;
    if (indexes.back() - indexes.front() + 1 == indexes.size()) {
      batch = messages.subspan(indexes.front(), indexes.size());
    } else {
      gathered.reserve(indexes.size());
      for (size_t i : indexes) gathered.push_back(messages[i]);
      batch = gathered;
    }
    for (size_t i = 0; i < targets.size(); ++i) {
      auto& [group, members] = targets[i];
      std::vector<absl::Status> statuses;
      bool called = false;
      // Try members round-robin; a closed member passes to the next.
      for (size_t k = 0; k < members.size(); ++k) {
        Member& member = *members[(starts[i] + k) % members.size()];
        absl::MutexLock lock(&member.mu);
        if (member.closed) continue;
        statuses = member.handler(batch);
        called = true;
        break;
      }
      for (size_t k = 0; k < result.size(); ++k) {
        absl::Status s;
        if (!called) {
          s = absl::UnavailableError(absl::StrCat("no live member of group ", group));
        } else if (statuses.size() != result.size()) {
          s = absl::InternalError(absl::StrCat("a handler of group ", group, " returned ",
                                               statuses.size(), " statuses for ",
                                               result.size(), " messages"));
        } else {
          s = statuses[k];
        }
        if (!s.ok() && result[k].ok()) {
          // Whatever the handler said, the message is to be published again.
          result[k] = absl::UnavailableError(
              absl::StrCat("consumer group ", group, " failed: ", s.ToString()));
        }
      }
    }
    return result;
  }

  absl::Mutex mu_;
  std::map<std::string, std::map<std::string, Group>> topics_ ABSL_GUARDED_BY(mu_);
};

InprocSubscription::~InprocSubscription() {
  log_->Unsubscribe(topic_, group_, member_);
}

}  // namespace

std::unique_ptr<EventLog> NewInprocEventLog() {
  return std::make_unique<InprocEventLog>();
}

}  // namespace alerthub
