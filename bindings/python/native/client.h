// NativeClient: alerthub::Client as the `alerthub._alerthub.NativeClient`
// class that the Python `alerthub.Client` wraps.
//
// Each call converts its Python arguments with the GIL held, releases the GIL
// for the C++ call (database or network work), and converts the result back
// (convert.h) or raises the alerthub.Error for its status (errors.h). The C++
// Client is thread-safe, so Python threads may share one NativeClient.
//
//   NativeClient::Open(options)          // released GIL while it opens
//   client->Submit(dict, "")             // {"id": ..., "duplicate": False, ...}
//
// Close() drops this object's reference to the C++ Client; calls already
// running, and open watches, hold their own, so the Client is destroyed (with
// the GIL released) when the last of them ends. Calls after Close() raise
// ValueError.
#ifndef BINDINGS_PYTHON_NATIVE_CLIENT_H_
#define BINDINGS_PYTHON_NATIVE_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/client.h"
#include "bindings/python/native/watch.h"
#include "pybind11/pybind11.h"

namespace alerthub::python {

class NativeClient {
 public:
  // Client::Open(options); raises alerthub.Error (InvalidArgument for bad
  // options, Unavailable when the store cannot be opened, ...).
  static std::unique_ptr<NativeClient> Open(const ClientOptions& options);

  ~NativeClient();

  NativeClient(const NativeClient&) = delete;
  NativeClient& operator=(const NativeClient&) = delete;

  // "embedded" or "remote".
  const std::string& mode() const { return mode_; }

  // `notification`: a dict shaped like the REST request body.
  pybind11::dict Submit(pybind11::handle notification, const std::string& idempotency_key);

  // `notifications`: a list of 1-100 such dicts. One entry per item, in
  // order: the result dict, or the alerthub.Error instance (not raised) for
  // an item that was rejected. Raises when the call as a whole fails (size,
  // rate limit, store or router unavailable).
  pybind11::list SubmitBatch(pybind11::handle notifications, const std::string& idempotency_key);

  pybind11::dict Get(const std::string& id);
  pybind11::list Events(const std::string& id);

  // One page: (list of notification dicts, next cursor or ""). `status` is a
  // status name, `since_us` Unix microseconds.
  pybind11::tuple ListPage(const std::optional<std::string>& status, const std::string& type,
                           std::optional<int64_t> since_us, int limit,
                           const std::string& cursor);

  // `min_priority`: None, a priority name or 1-5.
  std::unique_ptr<NativeWatch> Watch(const std::vector<std::string>& types,
                                     pybind11::handle min_priority, int64_t max_queue,
                                     pybind11::object callback);

  void Close();
  bool closed() const;

 private:
  NativeClient(std::shared_ptr<Client> client, std::string mode);

  // This object's Client, for one call; ValueError after Close().
  std::shared_ptr<Client> Acquire() const;

  const std::string mode_;
  mutable absl::Mutex mu_;
  std::shared_ptr<Client> client_ ABSL_GUARDED_BY(mu_);
};

}  // namespace alerthub::python

#endif  // BINDINGS_PYTHON_NATIVE_CLIENT_H_
