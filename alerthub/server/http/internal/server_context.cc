#include "alerthub/server/http/internal/server_context.h"

#include "alerthub/server/http/internal/access_log.h"

namespace alerthub::http::http_internal {

void ServerContext::Register(const std::shared_ptr<Connection>& connection) {
  absl::MutexLock lock(&mu_);
  live_.emplace(connection.get(), connection);
}

void ServerContext::Unregister(Connection* connection) {
  absl::MutexLock lock(&mu_);
  live_.erase(connection);
}

std::vector<std::shared_ptr<Connection>> ServerContext::Snapshot() {
  std::vector<std::shared_ptr<Connection>> out;
  absl::MutexLock lock(&mu_);
  out.reserve(live_.size());
  for (auto& [ptr, weak] : live_) {
    if (std::shared_ptr<Connection> c = weak.lock())
      out.push_back(std::move(c));
  }
  return out;
}

int64_t ServerContext::size() {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(live_.size());
}

bool ServerContext::AwaitEmpty(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(
      absl::Condition(
          +[](absl::flat_hash_map<Connection*, std::weak_ptr<Connection>>* m) {
            return m->empty();
          },
          &live_),
      deadline);
}

void ServerContext::Record(const RequestInfo& info, absl::string_view remote,
                           int status, size_t bytes) const {
  if (!options->access_log && !options->on_request) return;
  const absl::Duration duration =
      absl::FromChrono(std::chrono::steady_clock::now() - info.start);
  if (options->on_request) {
    options->on_request(RequestRecord{.route = info.route,
                                      .method = info.method,
                                      .status = status,
                                      .duration = duration,
                                      .bytes = bytes});
  }
  if (options->access_log) {
    options->access_log(FormatAccessLogLine(AccessLogEntry{
        .ts = info.start_wall,
        .method = info.method,
        .path = info.path,
        .route = info.route,
        .status = status,
        .bytes = bytes,
        .duration = duration,
        .request_id = info.request_id,
        .traceparent = info.traceparent,
        .remote = remote,
    }));
  }
}

}  // namespace alerthub::http::http_internal
