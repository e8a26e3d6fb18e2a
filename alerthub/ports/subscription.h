// A live subscription to an EventLog topic or a Kv pub/sub channel.
#ifndef ALERTHUB_PORTS_SUBSCRIPTION_H_
#define ALERTHUB_PORTS_SUBSCRIPTION_H_

namespace alerthub {

// Destroying the Subscription ends it: no handler call starts afterwards, and
// the destructor waits for a handler call already running on another thread.
// REQUIRES: not destroyed from inside its own handler.
class Subscription {
 public:
  virtual ~Subscription() = default;
};

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_SUBSCRIPTION_H_
