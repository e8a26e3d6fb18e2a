#include "alerthub/server/http/router.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "alerthub/server/http/internal/response_sink.h"
#include "alerthub/server/http/internal/uri.h"
#include "alerthub/server/http/problem.h"

namespace alerthub::http {

// ---------------------------------------------------------------------------
// Request

std::optional<std::string> Request::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

std::optional<std::string> Request::QueryParam(absl::string_view name) const {
  auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

// ---------------------------------------------------------------------------
// ResponseWriter

namespace {

class CallbackSink final : public http_internal::ResponseSink {
 public:
  explicit CallbackSink(absl::AnyInvocable<void(Response) &&> done)
      : done_(std::move(done)) {}
  void Deliver(Response response) override {
    std::move(done_)(std::move(response));
  }

 private:
  absl::AnyInvocable<void(Response) &&> done_;
};

Response AbandonedResponse() {
  return ProblemResponse(500, "Internal Server Error",
                         "the handler did not produce a response");
}

}  // namespace

ResponseWriter::ResponseWriter(
    std::shared_ptr<const void> keep_alive,
    std::shared_ptr<http_internal::ResponseSink> sink)
    : keep_alive_(std::move(keep_alive)), sink_(std::move(sink)) {}

ResponseWriter ResponseWriter::ForCallback(
    absl::AnyInvocable<void(Response) &&> done) {
  return ResponseWriter(nullptr,
                        std::make_shared<CallbackSink>(std::move(done)));
}

ResponseWriter& ResponseWriter::operator=(ResponseWriter&& other) noexcept {
  if (this != &other) {
    if (sink_ != nullptr) sink_->Deliver(AbandonedResponse());
    sink_ = std::move(other.sink_);
    keep_alive_ = std::move(other.keep_alive_);
  }
  return *this;
}

ResponseWriter::~ResponseWriter() {
  if (sink_ != nullptr) sink_->Deliver(AbandonedResponse());
}

void ResponseWriter::Send(Response response) && {
  if (sink_ == nullptr) return;  // misuse: already sent or moved from
  // Release our references before the keep-alive (sink_ first).
  std::shared_ptr<http_internal::ResponseSink> sink = std::move(sink_);
  std::shared_ptr<const void> keep_alive = std::move(keep_alive_);
  sink->Deliver(std::move(response));
  sink.reset();
}

// ---------------------------------------------------------------------------
// Router

struct Router::Node {
  struct Route {
    std::string method;
    Handler handler;
    RouteOptions options;
  };

  // Child nodes; literal segments are decoded text.
  absl::flat_hash_map<std::string, std::unique_ptr<Node>> literals;
  std::unique_ptr<Node> param;
  std::string param_name;  // of `param`

  std::string pattern;  // set once a route ends here
  std::vector<Route> routes;
  std::string allow;
  std::optional<WebSocketAcceptor> websocket;
  RouteOptions websocket_options;

  bool HasRoutes() const { return !routes.empty() || websocket.has_value(); }

  const Route* FindRoute(absl::string_view method) const {
    for (const Route& r : routes) {
      if (r.method == method) return &r;
    }
    return nullptr;
  }

  void ComputeAllow() {
    std::vector<absl::string_view> methods;
    for (const Route& r : routes) methods.push_back(r.method);
    if (FindRoute("GET") != nullptr && FindRoute("HEAD") == nullptr) {
      methods.push_back("HEAD");
    }
    std::sort(methods.begin(), methods.end());
    allow = absl::StrJoin(methods, ", ");
  }
};

Router::Router() : root_(std::make_unique<Node>()) {}
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;
Router::~Router() = default;

void Router::RecordError(absl::Status status) {
  if (status_.ok()) status_ = std::move(status);
}

namespace {

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) !=
             absl::string_view::npos;
}

bool IsParamName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace

Router::Node* Router::AddPattern(absl::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/') {
    RecordError(absl::InvalidArgumentError(
        absl::StrCat("route pattern \"", pattern, "\" must start with '/'")));
    return nullptr;
  }
  if (pattern.find_first_of("?#") != absl::string_view::npos) {
    RecordError(absl::InvalidArgumentError(absl::StrCat(
        "route pattern \"", pattern, "\" must not contain '?' or '#'")));
    return nullptr;
  }
  const std::vector<std::string> segments = http_internal::SplitPath(pattern);
  Node* node = root_.get();
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& seg = segments[i];
    const bool is_param =
        seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
    if (is_param) {
      const std::string name = seg.substr(1, seg.size() - 2);
      if (!IsParamName(name)) {
        RecordError(absl::InvalidArgumentError(
            absl::StrCat("route pattern \"", pattern, "\": parameter name \"",
                         name, "\" must be letters, digits and '_'")));
        return nullptr;
      }
      if (node->param == nullptr) {
        node->param = std::make_unique<Node>();
        node->param_name = name;
      } else if (node->param_name != name) {
        RecordError(absl::InvalidArgumentError(
            absl::StrCat("route pattern \"", pattern, "\": parameter {", name,
                         "} conflicts with {", node->param_name,
                         "} at the same position in another route")));
        return nullptr;
      }
      node = node->param.get();
      continue;
    }
    if (seg.find_first_of("{}") != std::string::npos ||
        (seg.empty() && i + 1 != segments.size())) {
      RecordError(absl::InvalidArgumentError(absl::StrCat(
          "route pattern \"", pattern, "\": malformed segment \"", seg, "\"")));
      return nullptr;
    }
    std::unique_ptr<Node>& child = node->literals[seg];
    if (child == nullptr) child = std::make_unique<Node>();
    node = child.get();
  }
  node->pattern = std::string(pattern);
  return node;
}

void Router::Add(absl::string_view method, absl::string_view pattern,
                 Handler handler, RouteOptions options) {
  if (method.empty() ||
      !std::all_of(method.begin(), method.end(), IsTokenChar)) {
    RecordError(absl::InvalidArgumentError(absl::StrCat(
        "route ", method, " ", pattern, ": method must be an HTTP token")));
    return;
  }
  if (!handler) {
    RecordError(absl::InvalidArgumentError(
        absl::StrCat("route ", method, " ", pattern, ": handler is empty")));
    return;
  }
  Node* node = AddPattern(pattern);
  if (node == nullptr) return;
  if (node->FindRoute(method) != nullptr) {
    RecordError(absl::InvalidArgumentError(
        absl::StrCat("route ", method, " ", pattern, " is registered twice")));
    return;
  }
  if (options.name.empty()) options.name = std::string(pattern);
  node->routes.push_back(
      Node::Route{std::string(method), std::move(handler), std::move(options)});
  node->ComputeAllow();
}

void Router::AddWebSocket(absl::string_view pattern, WebSocketAcceptor acceptor,
                          RouteOptions options) {
  if (!acceptor) {
    RecordError(absl::InvalidArgumentError(
        absl::StrCat("WebSocket route ", pattern, ": acceptor is empty")));
    return;
  }
  Node* node = AddPattern(pattern);
  if (node == nullptr) return;
  if (node->websocket.has_value()) {
    RecordError(absl::InvalidArgumentError(
        absl::StrCat("WebSocket route ", pattern, " is registered twice")));
    return;
  }
  if (options.name.empty()) options.name = std::string(pattern);
  node->websocket = std::move(acceptor);
  node->websocket_options = std::move(options);
}

namespace {

using Bindings = std::vector<std::pair<const std::string*, const std::string*>>;

template <typename NodeT>
const NodeT* MatchNode(const NodeT* node,
                       absl::Span<const std::string> segments, size_t i,
                       Bindings& bound) {
  if (i == segments.size()) return node->HasRoutes() ? node : nullptr;
  if (auto it = node->literals.find(segments[i]); it != node->literals.end()) {
    if (const NodeT* found =
            MatchNode(it->second.get(), segments, i + 1, bound)) {
      return found;
    }
  }
  if (node->param != nullptr && !segments[i].empty()) {
    bound.emplace_back(&node->param_name, &segments[i]);
    if (const NodeT* found =
            MatchNode(node->param.get(), segments, i + 1, bound)) {
      return found;
    }
    bound.pop_back();
  }
  return nullptr;
}

}  // namespace

Router::Match Router::Find(absl::string_view method,
                           absl::Span<const std::string> segments) const {
  Match match;
  Bindings bound;
  const Node* node = MatchNode(root_.get(), segments, 0, bound);
  if (node == nullptr) return match;
  match.path_found = true;
  match.pattern = node->pattern;
  match.allow = node->allow;
  const Node::Route* route = node->FindRoute(method);
  if (route == nullptr && method == "HEAD") route = node->FindRoute("GET");
  if (route != nullptr) {
    match.handler = &route->handler;
    match.options = &route->options;
  }
  if (node->websocket.has_value()) {
    match.websocket = &*node->websocket;
    match.websocket_options = &node->websocket_options;
  }
  for (const auto& [name, value] : bound) match.params.emplace(*name, *value);
  return match;
}

Router::Match Router::Find(absl::string_view method,
                           absl::string_view path) const {
  const std::vector<std::string> segments = http_internal::SplitPath(path);
  return Find(method, absl::MakeConstSpan(segments));
}

}  // namespace alerthub::http
