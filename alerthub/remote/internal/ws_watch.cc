#include "alerthub/remote/internal/ws_watch.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "alerthub/internal/watch_dispatcher.h"
#include "alerthub/remote/internal/http_mapping.h"
#include "nlohmann/json.hpp"

namespace alerthub::remote_internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

using PlainStream = websocket::stream<beast::tcp_stream>;
using TlsStream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

constexpr char kPath[] = "/api/v1/ws";
constexpr char kUserAgent[] = "alerthub-cpp-client/1";
// Quick retries of the first connection before Start() gives up.
constexpr int kInitialRetries = 3;
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);
// The router pings every 20 s; with nothing received for this long the
// connection is dead (Beast pings at half of it first).
constexpr std::chrono::seconds kIdleTimeout(45);
// How long a closing handshake may take before the socket is just closed.
constexpr std::chrono::milliseconds kCloseGrace(500);
constexpr size_t kMaxMessageBytes = 1 << 20;

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(d));
}

bool Matches(const WatchOptions& options, const StatusUpdate& u) {
  if (options.min_priority.has_value() &&
      static_cast<int>(u.priority) < static_cast<int>(*options.min_priority)) {
    return false;
  }
  if (options.types.empty()) return true;
  return std::find(options.types.begin(), options.types.end(), u.notification_type) !=
         options.types.end();
}

std::string SubscribeMessage(const WatchOptions& options) {
  nlohmann::json filter = nlohmann::json::object();
  if (!options.types.empty()) filter["types"] = options.types;
  if (options.min_priority.has_value()) {
    filter["min_priority"] = std::string(PriorityName(*options.min_priority));
  }
  return nlohmann::json{{"type", "subscribe"}, {"filter", filter}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

// Everything below runs on the watch's I/O thread except the constructor,
// Run(), WaitForConfirmation(), Shutdown() and dropped().
class WebSocketWatch::Impl {
 public:
  Impl(Endpoint endpoint, std::string api_key, absl::Duration timeout, WatchOptions options,
       Client::UpdateCallback callback)
      : endpoint_(std::move(endpoint)),
        api_key_(std::move(api_key)),
        timeout_(timeout),
        options_(std::move(options)),
        subscribe_message_(SubscribeMessage(options_)),
        dispatcher_(std::make_unique<client_internal::WatchDispatcher>(std::move(callback),
                                                                       options_.max_queue)),
        resolver_(ioc_),
        retry_timer_(ioc_),
        close_timer_(ioc_) {
    if (endpoint_.tls) {
      tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
      tls_->set_default_verify_paths();
      tls_->set_verify_mode(asio::ssl::verify_peer);
    }
  }

  ~Impl() { Shutdown(); }

  void Run() {
    asio::post(ioc_, [this] { Connect(); });
    thread_ = std::thread([this] {
      ioc_.run();
      finished_.Notify();
    });
  }

  // The first connection's outcome: OK once subscribed.
  absl::Status WaitForConfirmation() {
    absl::MutexLock lock(&mu_);
    auto decided = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return first_.has_value(); };
    if (!mu_.AwaitWithTimeout(absl::Condition(&decided), timeout_)) {
      return absl::UnavailableError(absl::StrCat(
          "watch: no subscription confirmed by ", endpoint_.base_url, " within ",
          absl::FormatDuration(timeout_),
          last_error_.empty() ? std::string() : absl::StrCat(" (last error: ", last_error_, ")")));
    }
    return *first_;
  }

  // Idempotent. Closes the connection on the I/O thread and joins it, then
  // stops the dispatcher.
  void Shutdown() {
    if (!thread_.joinable()) return;
    asio::post(ioc_, [this] { Stop(); });
    // Stop() ends every operation, so run() returns; the deadline is a guard
    // against an operation that ignores cancellation.
    if (!finished_.WaitForNotificationWithTimeout(absl::Seconds(2))) ioc_.stop();
    thread_.join();
    dispatcher_.reset();
  }

  int64_t dropped() const { return dispatcher_ != nullptr ? dispatcher_->dropped() : 0; }

 private:
  // Calls f(stream) on the current connection's stream, if any.
  template <typename F>
  void WithStream(F&& f) {
    std::visit(
        [&](auto& s) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(s)>, std::monostate>) f(*s);
        },
        stream_);
  }

  void Connect() {
    if (stopping_) return;
    const uint64_t gen = ++generation_;
    if (endpoint_.tls) {
      stream_ = std::make_unique<TlsStream>(ioc_, *tls_);
    } else {
      stream_ = std::make_unique<PlainStream>(ioc_);
    }
    buffer_.clear();
    handshake_response_ = {};
    resolver_.async_resolve(
        endpoint_.host, std::to_string(endpoint_.port),
        [this, gen](beast::error_code ec, tcp::resolver::results_type results) {
          if (gen != generation_ || stopping_) return;
          if (ec) return Fail(Transport("resolve", ec));
          WithStream([&](auto& ws) {
            auto& tcp_stream = beast::get_lowest_layer(ws);
            tcp_stream.expires_after(ToChrono(std::min(timeout_, absl::Seconds(5))));
            tcp_stream.async_connect(results,
                                     [this, gen](beast::error_code ec, const tcp::endpoint&) {
                                       if (gen != generation_ || stopping_) return;
                                       if (ec) return Fail(Transport("connect", ec));
                                       if (endpoint_.tls) return TlsHandshake(gen);
                                       WsHandshake(gen);
                                     });
          });
        });
  }

  void TlsHandshake(uint64_t gen) {
    auto& ws = *std::get<std::unique_ptr<TlsStream>>(stream_);
    auto& ssl = ws.next_layer();
    if (!SSL_set_tlsext_host_name(ssl.native_handle(), endpoint_.host.c_str())) {
      return Fail(absl::UnavailableError("watch: cannot set the TLS server name"));
    }
    ssl.set_verify_callback(asio::ssl::host_name_verification(endpoint_.host));
    beast::get_lowest_layer(ws).expires_after(ToChrono(timeout_));
    ssl.async_handshake(asio::ssl::stream_base::client, [this, gen](beast::error_code ec) {
      if (gen != generation_ || stopping_) return;
      if (ec) return Fail(Transport("TLS handshake", ec));
      WsHandshake(gen);
    });
  }

  void WsHandshake(uint64_t gen) {
    WithStream([&](auto& ws) {
      // The websocket stream keeps its own timers from here on.
      beast::get_lowest_layer(ws).expires_never();
      websocket::stream_base::timeout t;
      t.handshake_timeout = ToChrono(timeout_);
      t.idle_timeout = kIdleTimeout;
      t.keep_alive_pings = true;
      ws.set_option(t);
      ws.set_option(
          websocket::stream_base::decorator([key = api_key_](websocket::request_type& req) {
            req.set("X-API-Key", key);
            req.set(beast::http::field::user_agent, kUserAgent);
          }));
      ws.read_message_max(kMaxMessageBytes);
      ws.async_handshake(handshake_response_, endpoint_.host_header, kPath,
                         [this, gen](beast::error_code ec) {
                           if (gen != generation_ || stopping_) return;
                           if (ec == websocket::error::upgrade_declined) {
                             return Fail(DeclinedStatus());
                           }
                           if (ec) return Fail(Transport("WebSocket handshake", ec));
                           Subscribe(gen);
                         });
    });
  }

  void Subscribe(uint64_t gen) {
    WithStream([&](auto& ws) {
      ws.text(true);
      ws.async_write(asio::buffer(subscribe_message_), [this, gen](beast::error_code ec, size_t) {
        if (gen != generation_ || stopping_) return;
        if (ec) return Fail(Transport("subscribe", ec));
        Read(gen);
      });
    });
  }

  void Read(uint64_t gen) {
    WithStream([&](auto& ws) {
      ws.async_read(buffer_, [this, gen](beast::error_code ec, size_t) {
        if (gen != generation_ || stopping_) return;
        if (ec) {
          std::string why = ec.message();
          WithStream([&](auto& s) {
            if (ec == websocket::error::closed) {
              why = absl::StrCat("closed by the router (", static_cast<int>(s.reason().code),
                                 s.reason().reason.empty() ? "" : " ",
                                 std::string(s.reason().reason.data(), s.reason().reason.size()),
                                 ")");
            }
          });
          return Fail(absl::UnavailableError(absl::StrCat("watch: connection lost: ", why)));
        }
        std::string text = beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        if (!OnMessage(text)) return;
        Read(gen);
      });
    });
  }

  // False when the message ends this connection.
  bool OnMessage(const std::string& text) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return true;
    auto type = j.find("type");
    if (type == j.end() || !type->is_string()) return true;
    const std::string& kind = type->get_ref<const std::string&>();
    if (kind == "notification.updated") {
      absl::StatusOr<StatusUpdate> u = StatusUpdateFromJson(text);
      // The router filters too; this also covers updates sent before it
      // applied the subscription.
      if (u.ok() && Matches(options_, *u)) dispatcher_->Push(*std::move(u));
    } else if (kind == "subscribed") {
      failures_ = 0;
      confirmed_once_ = true;
      Report(absl::OkStatus());
    } else if (kind == "error") {
      auto detail = j.find("detail");
      std::string why = detail != j.end() && detail->is_string() ? detail->get<std::string>()
                                                                 : std::string("(no detail)");
      Fail(
          absl::InvalidArgumentError(absl::StrCat("watch: the router rejected the filter: ", why)));
      return false;
    }
    return true;
  }

  absl::Status Transport(absl::string_view step, const beast::error_code& ec) {
    return absl::UnavailableError(
        absl::StrCat("watch: ", step, " ", endpoint_.base_url, kPath, ": ", ec.message()));
  }

  // The router answered the upgrade with an error (401 for a bad key, ...).
  absl::Status DeclinedStatus() {
    HttpResponse r;
    r.status = static_cast<int>(handshake_response_.result_int());
    for (const auto& field : handshake_response_) {
      r.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
          std::string(field.value());
    }
    r.body = handshake_response_.body();
    absl::Status s = StatusFromHttpResponse(r);
    if (s.ok())
      s = absl::UnknownError(absl::StrCat("watch: upgrade declined with HTTP ", r.status));
    return s;
  }

  void Report(absl::Status s) {
    absl::MutexLock lock(&mu_);
    if (!first_.has_value()) first_ = std::move(s);
  }

  // Turns the websocket's own handshake/idle timer off, so that no
  // operation outlives the connection and run() can return.
  void Disarm() {
    WithStream([](auto& ws) {
      ws.set_option(websocket::stream_base::timeout{websocket::stream_base::none(),
                                                    websocket::stream_base::none(), false});
    });
  }

  void CloseSocket() {
    Disarm();
    WithStream([](auto& ws) {
      beast::error_code ignored;
      beast::get_lowest_layer(ws).socket().close(ignored);
    });
  }

  // Ends the current connection; schedules the next unless the watch is
  // stopping or the first connection failed for good.
  void Fail(const absl::Status& s) {
    CloseSocket();
    if (stopping_) return;
    {
      absl::MutexLock lock(&mu_);
      last_error_ = s.ToString();
    }
    if (!confirmed_once_ &&
        (s.code() != absl::StatusCode::kUnavailable || failures_ >= kInitialRetries)) {
      Report(s);  // Start() fails; no more work, so the I/O thread ends
      return;
    }
    // After the first success, keep trying whatever the error (a router
    // being redeployed may answer 503 or even 401 for a while).
    absl::Duration backoff = kFirstBackoff * (int64_t{1} << std::min(failures_, 10));
    backoff = std::min(backoff, kMaxBackoff);
    backoff -= backoff * absl::Uniform(rng_, 0.0, 0.2);
    ++failures_;
    retry_timer_.expires_after(ToChrono(backoff));
    retry_timer_.async_wait([this](beast::error_code ec) {
      if (!ec && !stopping_) Connect();
    });
  }

  void Stop() {
    stopping_ = true;
    retry_timer_.cancel();
    resolver_.cancel();
    bool open = false;
    WithStream([&](auto& ws) { open = ws.is_open(); });
    if (!open) return CloseSocket();
    Disarm();  // close_timer_ bounds the closing handshake instead
    WithStream([&](auto& ws) {
      ws.async_close(websocket::close_code::normal, [this](beast::error_code) {
        CloseSocket();
        close_timer_.cancel();
      });
    });
    close_timer_.expires_after(kCloseGrace);
    close_timer_.async_wait([this](beast::error_code ec) {
      if (!ec) CloseSocket();
    });
  }

  const Endpoint endpoint_;
  const std::string api_key_;
  const absl::Duration timeout_;
  const WatchOptions options_;
  const std::string subscribe_message_;
  std::unique_ptr<client_internal::WatchDispatcher> dispatcher_;

  asio::io_context ioc_;
  tcp::resolver resolver_;
  asio::steady_timer retry_timer_;
  asio::steady_timer close_timer_;
  std::unique_ptr<asio::ssl::context> tls_;  // https endpoints only
  std::variant<std::monostate, std::unique_ptr<PlainStream>, std::unique_ptr<TlsStream>> stream_;
  beast::flat_buffer buffer_;
  websocket::response_type handshake_response_;
  uint64_t generation_ = 0;  // of the current connection attempt
  bool stopping_ = false;
  bool confirmed_once_ = false;
  int failures_ = 0;  // consecutive, since the last subscription
  absl::BitGen rng_;

  std::thread thread_;
  absl::Notification finished_;  // run() returned

  absl::Mutex mu_;
  std::optional<absl::Status> first_ ABSL_GUARDED_BY(mu_);
  std::string last_error_ ABSL_GUARDED_BY(mu_);
};

WebSocketWatch::WebSocketWatch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WebSocketWatch::~WebSocketWatch() = default;

int64_t WebSocketWatch::dropped() const { return impl_->dropped(); }

absl::StatusOr<std::unique_ptr<WebSocketWatch>> WebSocketWatch::Start(
    const Endpoint& endpoint, const std::string& api_key, absl::Duration timeout,
    const WatchOptions& options, Client::UpdateCallback callback) {
  if (!callback) return absl::InvalidArgumentError("Watch needs a callback");
  auto impl = std::make_unique<Impl>(endpoint, api_key, timeout, options, std::move(callback));
  impl->Run();
  absl::Status s = impl->WaitForConfirmation();
  if (!s.ok()) return s;  // `impl` shuts down on the way out
  return std::unique_ptr<WebSocketWatch>(new WebSocketWatch(std::move(impl)));
}

}  // namespace alerthub::remote_internal
