#include "bindings/python/native/watch.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "bindings/python/native/convert.h"
#include "bindings/python/native/errors.h"

namespace alerthub::python {
namespace py = pybind11;
namespace {

absl::Time DeadlineAfter(std::optional<double> timeout_s) {
  if (!timeout_s.has_value()) return absl::InfiniteFuture();
  return absl::Now() + absl::Seconds(std::max(0.0, *timeout_s));
}

// Destroys a WatchHandle (and the Client reference) without the GIL.
void DestroyWithoutGil(std::unique_ptr<WatchHandle> handle, std::shared_ptr<Client> client) {
  py::gil_scoped_release release;
  handle.reset();
  client.reset();
}

}  // namespace

std::unique_ptr<NativeWatch> NativeWatch::Start(std::shared_ptr<Client> client,
                                                const WatchOptions& options,
                                                py::object callback) {
  auto state = std::make_shared<State>(options.max_queue);
  if (!callback.is_none()) state->callback = callback.ptr();
  std::unique_ptr<NativeWatch> watch(new NativeWatch(client, state, std::move(callback)));
  absl::StatusOr<std::unique_ptr<WatchHandle>> handle;
  {
    py::gil_scoped_release release;
    handle = client->Watch(options, [state](const StatusUpdate& u) { Deliver(state, u); });
  }
  if (!handle.ok()) {
    {
      absl::MutexLock lock(&state->mu);
      state->closed = true;
    }
    ThrowStatus(handle.status());
  }
  watch->handle_ = *std::move(handle);
  return watch;
}

NativeWatch::NativeWatch(std::shared_ptr<Client> client, std::shared_ptr<State> state,
                         py::object callback)
    : client_(std::move(client)), state_(std::move(state)), callback_(std::move(callback)) {}

NativeWatch::~NativeWatch() { Close(); }

void NativeWatch::Deliver(const std::shared_ptr<State>& state, const StatusUpdate& update) {
  if (state->callback == nullptr) {
    Enqueue(*state, update);
    return;
  }
  {
    absl::MutexLock lock(&state->mu);
    if (state->closed) return;
  }
  py::gil_scoped_acquire gil;
  py::object callback;
  {
    // Close() may have run while this thread waited for the GIL.
    absl::MutexLock lock(&state->mu);
    if (state->closed) return;
    state->callback_thread = std::this_thread::get_id();
    callback = py::reinterpret_borrow<py::object>(state->callback);
  }
  try {
    callback(StatusUpdateToPython(update));
  } catch (py::error_already_set& e) {
    e.discard_as_unraisable("alerthub watch callback");
  } catch (const std::exception& e) {
    // A C++ exception from a conversion; report it the same way.
    PyErr_SetString(PyExc_RuntimeError, e.what());
    py::error_already_set err;
    err.discard_as_unraisable("alerthub watch callback");
  }
  absl::MutexLock lock(&state->mu);
  state->callback_thread = std::thread::id();
}

void NativeWatch::Enqueue(State& state, const StatusUpdate& update) {
  absl::MutexLock lock(&state.mu);
  if (state.closed) return;
  if (state.queue.size() >= state.max_queue) {
    state.queue.pop_front();
    ++state.dropped;
  }
  state.queue.push_back(update);
}

bool NativeWatch::AwaitReady(bool (*ready)(State*), std::optional<double> timeout_s) {
  const absl::Time deadline = DeadlineAfter(timeout_s);
  while (true) {
    bool is_ready = false;
    {
      py::gil_scoped_release release;
      absl::MutexLock lock(&state_->mu);
      is_ready = state_->mu.AwaitWithDeadline(
          absl::Condition(ready, state_.get()),
          std::min(deadline, absl::Now() + kSignalCheckInterval));
    }
    if (is_ready) return true;
    // Runs Python's signal handlers: Ctrl-C raises KeyboardInterrupt here.
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (absl::Now() >= deadline) return false;
  }
}

py::object NativeWatch::Next(std::optional<double> timeout_s) {
  if (has_callback()) {
    throw py::type_error("this watch delivers updates to its callback; it has no iterator");
  }
  auto ready = [](State* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
    return s->closed || !s->queue.empty();
  };
  if (!AwaitReady(+ready, timeout_s)) return py::none();
  StatusUpdate update;
  {
    absl::MutexLock lock(&state_->mu);
    // Another thread may have taken the update since AwaitReady returned.
    if (state_->closed) throw py::stop_iteration();
    if (state_->queue.empty()) return py::none();
    update = std::move(state_->queue.front());
    state_->queue.pop_front();
  }
  return StatusUpdateToPython(update);
}

bool NativeWatch::Wait(std::optional<double> timeout_s) {
  auto closed = [](State* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) { return s->closed; };
  return AwaitReady(+closed, timeout_s);
}

void NativeWatch::Close() {
  bool inside_callback = false;
  {
    absl::MutexLock lock(&state_->mu);
    state_->closed = true;
    state_->queue.clear();
    inside_callback = state_->callback_thread == std::this_thread::get_id();
  }
  // Moved out with the GIL held, so two closing threads cannot both get it.
  std::unique_ptr<WatchHandle> handle = std::move(handle_);
  std::shared_ptr<Client> client = std::move(client_);
  if (handle == nullptr) return;
  dropped_at_close_ = handle->dropped();
  if (inside_callback) {
    // The handle joins this very thread; let a helper wait for the callback
    // to return. The callback object stays alive: the running call holds a
    // reference to it.
    std::thread([handle = std::move(handle), client = std::move(client)]() mutable {
      handle.reset();
      client.reset();
    }).detach();
    return;
  }
  DestroyWithoutGil(std::move(handle), std::move(client));
}

bool NativeWatch::closed() const {
  absl::MutexLock lock(&state_->mu);
  return state_->closed;
}

int64_t NativeWatch::dropped() const {
  int64_t queued_drops = 0;
  {
    absl::MutexLock lock(&state_->mu);
    queued_drops = state_->dropped;
  }
  return queued_drops + (handle_ != nullptr ? handle_->dropped() : dropped_at_close_);
}

}  // namespace alerthub::python
