// inproc:// — the embedded EventLog: topics delivered to in-process
// subscribers.
//
// It keeps nothing itself: PublishReliable() calls one member of every
// consumer group subscribed to the topic, on the publisher's thread (a
// SubscribeBatch handler once with all of the call's messages of its topic),
// and reports a message OK only when every one of those handlers did. Durability
// comes from the store's outbox, whose relay marks a row sent only after
// this returns OK (ARCHITECTURE §3). Messages on a topic with no subscriber
// are acknowledged and dropped, so subscribe before starting the relay.
//
//   std::unique_ptr<EventLog> log = NewInprocEventLog();
//   auto sub = log->Subscribe("alerthub.notifications.created", "router", handler);
#ifndef ALERTHUB_ADAPTERS_INPROC_INPROC_EVENT_LOG_H_
#define ALERTHUB_ADAPTERS_INPROC_INPROC_EVENT_LOG_H_

#include <memory>

#include "alerthub/ports/event_log.h"

namespace alerthub {

// Subscriptions must be destroyed before the EventLog.
std::unique_ptr<EventLog> NewInprocEventLog();

}  // namespace alerthub

#endif  // ALERTHUB_ADAPTERS_INPROC_INPROC_EVENT_LOG_H_
