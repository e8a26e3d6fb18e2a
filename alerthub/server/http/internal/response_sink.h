// Where a ResponseWriter delivers its response: the connection that read the
// request, or a callback (ResponseWriter::ForCallback).
#ifndef ALERTHUB_SERVER_HTTP_INTERNAL_RESPONSE_SINK_H_
#define ALERTHUB_SERVER_HTTP_INTERNAL_RESPONSE_SINK_H_

#include <memory>
#include <utility>

#include "alerthub/server/http/router.h"

namespace alerthub::http::http_internal {

class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // Called exactly once per writer, from any thread.
  virtual void Deliver(Response response) = 0;
};

// Lets the server build writers without making the constructor public.
struct ResponseWriterAccess {
  static ResponseWriter Make(std::shared_ptr<const void> keep_alive,
                             std::shared_ptr<ResponseSink> sink) {
    return ResponseWriter(std::move(keep_alive), std::move(sink));
  }
};

}  // namespace alerthub::http::http_internal

#endif  // ALERTHUB_SERVER_HTTP_INTERNAL_RESPONSE_SINK_H_
