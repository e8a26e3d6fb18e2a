// NativeWatch: a Client::Watch seen from Python, in one of two forms.
//
//   Iterator form (no callback): updates are queued here, without the GIL,
//   and Next() hands them out. Next() waits with the GIL released in slices
//   of kSignalCheckInterval and runs PyErr_CheckSignals() between slices, so
//   Ctrl-C interrupts a blocked `for update in watch` with KeyboardInterrupt.
//
//   Callback form: the callback runs on the watch's own thread (the C++
//   WatchHandle's), one update at a time, with the GIL acquired for the call.
//   An exception it raises goes to sys.unraisablehook and the watch goes on.
//
// Close() ends the watch: after it returns no callback runs and Next() raises
// StopIteration. It releases the GIL while the C++ handle shuts down (which
// joins the thread that may be waiting for the GIL to run a callback). Called
// from inside the callback, it hands the shutdown to a helper thread, since
// the callback thread cannot join itself.
//
// The watch keeps the C++ Client alive (a shared_ptr), so closing the Python
// Client first is safe. Thread-safe; every method needs the GIL.
#ifndef BINDINGS_PYTHON_NATIVE_WATCH_H_
#define BINDINGS_PYTHON_NATIVE_WATCH_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerthub/client.h"
#include "pybind11/pybind11.h"

namespace alerthub::python {

// How often a blocked Next() or Wait() looks for pending signals.
inline constexpr absl::Duration kSignalCheckInterval = absl::Milliseconds(50);

class NativeWatch {
 public:
  // Starts watching through `client` (released GIL while the C++ Watch
  // connects). `callback` None selects the iterator form; then at most
  // `options.max_queue` updates wait in Next()'s queue and older ones are
  // dropped (counted in dropped()). Raises alerthub.Error on failure.
  static std::unique_ptr<NativeWatch> Start(std::shared_ptr<Client> client,
                                            const WatchOptions& options,
                                            pybind11::object callback);

  ~NativeWatch();

  NativeWatch(const NativeWatch&) = delete;
  NativeWatch& operator=(const NativeWatch&) = delete;

  // Iterator form: the next update as a dict (convert.h), or None when
  // `timeout_s` (None: no limit) passed first. Raises StopIteration once the
  // watch is closed, KeyboardInterrupt (or what a signal handler raises)
  // when a signal arrives, TypeError in the callback form.
  pybind11::object Next(std::optional<double> timeout_s);

  // Waits until the watch is closed (by Close() from another thread or the
  // callback); true when it is, false when `timeout_s` passed first.
  // Interruptible by signals like Next().
  bool Wait(std::optional<double> timeout_s);

  // Idempotent; see the file comment.
  void Close();

  bool closed() const;
  // Updates lost because the consumer fell behind: the C++ handle's count
  // plus this queue's (iterator form).
  int64_t dropped() const;
  bool has_callback() const { return !callback_.is_none(); }

 private:
  // Shared with the C++ callback, which may outlive this object by a moment
  // when Close() ran inside the callback.
  struct State {
    explicit State(size_t max_queue) : max_queue(max_queue == 0 ? 1 : max_queue) {}

    const size_t max_queue;
    mutable absl::Mutex mu;
    std::deque<StatusUpdate> queue ABSL_GUARDED_BY(mu);
    int64_t dropped ABSL_GUARDED_BY(mu) = 0;
    bool closed ABSL_GUARDED_BY(mu) = false;
    // The thread running the Python callback right now, if any.
    std::thread::id callback_thread ABSL_GUARDED_BY(mu);
    // Borrowed from NativeWatch::callback_, which outlives every call: a call
    // starts only while !closed, and callback_ is released after Close()
    // stopped the handle. Read only with the GIL held.
    PyObject* callback = nullptr;
  };

  NativeWatch(std::shared_ptr<Client> client, std::shared_ptr<State> state,
              pybind11::object callback);

  static void Deliver(const std::shared_ptr<State>& state, const StatusUpdate& update);
  static void Enqueue(State& state, const StatusUpdate& update);

  // Waits (GIL released, in signal-check slices) until `ready` holds or
  // `timeout_s` passes; true when ready.
  bool AwaitReady(bool (*ready)(State*), std::optional<double> timeout_s);

  std::shared_ptr<Client> client_;
  const std::shared_ptr<State> state_;
  std::unique_ptr<WatchHandle> handle_;  // changed only with the GIL held
  pybind11::object callback_;            // None in the iterator form
  int64_t dropped_at_close_ = 0;         // the handle's count when it closed
};

}  // namespace alerthub::python

#endif  // BINDINGS_PYTHON_NATIVE_WATCH_H_
