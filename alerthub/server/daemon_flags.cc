#include "alerthub/server/daemon_flags.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/server/env_flags.h"

ABSL_FLAG(std::string, store, "", "Store URL (sqlite:///abs/path.db, sqlite://relative.db).");
ABSL_FLAG(std::string, bus, "inproc://", "Event bus URL: inproc:// or kafka://host:port[,...].");
ABSL_FLAG(std::string, queue, "sql://",
          "Delivery task queue URL: sql:// (a table in the store) or "
          "amqp://user:pw@host:5672/vhost.");
ABSL_FLAG(std::string, kv, "memory://",
          "Kv URL for rate limits, the dedup window and realtime updates: memory:// or "
          "redis://[:pw@]host:6379[/db].");
ABSL_FLAG(std::string, http_address, "0.0.0.0", "Address the HTTP server binds.");
ABSL_FLAG(int, http_port, 8080, "HTTP port for every REST route and the WebSocket.");
ABSL_FLAG(int, handler_threads, 64,
          "Threads that run request handlers; they block on the database, and concurrent "
          "submissions share commits, so keep this well above the core count.");
ABSL_FLAG(int, io_threads, 0, "HTTP I/O threads; 0 means one per CPU the process may run on.");
ABSL_FLAG(int, http_header_timeout_ms, 10000,
          "Close a connection whose request headers take longer than this (slowloris).");
ABSL_FLAG(int, http_idle_timeout_s, 60, "Close keep-alive connections idle this long.");
ABSL_FLAG(bool, access_log, true, "Write one JSON access-log line per request to stderr.");
ABSL_FLAG(double, rate_limit_per_second, 1000,
          "Default sustained submissions per second per tenant and per endpoint.");
ABSL_FLAG(double, rate_limit_burst, 2000, "Default token-bucket capacity.");
ABSL_FLAG(bool, rate_limit_enabled, true, "Apply rate limits at all.");
ABSL_FLAG(bool, rate_limit_fail_open, true,
          "When the Kv is unavailable, let submissions through (true) or refuse them with 503.");
ABSL_FLAG(int, dedup_window_s, 300,
          "Default content-dedup window in seconds; 0 disables content dedup.");
ABSL_FLAG(int, ws_ping_interval_s, 20,
          "Ping idle WebSocket clients this often; one silent for twice as long is dropped.");
ABSL_FLAG(int, shutdown_grace_s, 10,
          "On SIGTERM/SIGINT, how long in-flight requests may take to finish.");

ABSL_FLAG(bool, deliver, true,
          "Route accepted notifications and deliver them (the integrations service's "
          "workers and its /api/v1/integrations, /templates and /deliveries routes). "
          "alerthub-router never delivers; alerthub-integrations always does.");
ABSL_FLAG(bool, allow_private_networks, false,
          "Allow deliveries to loopback, private, link-local and CGNAT addresses. Off: "
          "integrations cannot reach the network AlertHub runs in.");
ABSL_FLAG(std::string, secrets_key_file, "",
          "File holding the key (64 hex digits or base64 of 32 bytes) that encrypts "
          "integration secrets at rest.");
ABSL_FLAG(std::string, secrets_key, "",
          "The secrets key itself; prefer the environment variable ALERTHUB_SECRETS_KEY to "
          "the command line. Wins over --secrets_key_file.");
ABSL_FLAG(std::string, bootstrap_key_file, "",
          "On first start against an empty store, create tenant \"default\" with an owner "
          "API key and write the key to this file (0600). Empty: no bootstrap (the all-in-one "
          "uses <data_dir>/bootstrap-api-key).");
ABSL_FLAG(int, grpc_port, -1,
          "Port of the admin API's gRPC server; 0 picks a free one. Default: 9090 for alerthub "
          "and alerthub-admin, none for alerthub-router and alerthub-integrations.");
ABSL_FLAG(std::string, grpc_address, "0.0.0.0", "Address the gRPC server binds.");
ABSL_FLAG(std::string, jwt_signing_key_file, "",
          "RSA private key (PEM) signing JWT access tokens; its public half verifies them. "
          "Empty, with no --jwt_verification_key_files: API keys only.");
ABSL_FLAG(std::vector<std::string>, jwt_verification_key_files, {},
          "Comma-separated PEM keys also trusted for JWT access tokens (a previous signing "
          "key, or the admin daemon's public key on routers).");
ABSL_FLAG(std::string, jwt_issuer, "alerthub", "The `iss` of JWT access tokens.");
ABSL_FLAG(std::string, jwt_audience, "alerthub-api", "The `aud` of JWT access tokens.");
ABSL_FLAG(int, refresh_token_ttl_days, 30,
          "Lifetime of each login refresh token from its issue; every refresh rotates it.");
// --- Failed-login limits (AuthSessions, docs/configuration.md) ---
ABSL_FLAG(int, login_failures_per_account, 5,
          "Failed logins allowed per account (tenant + e-mail) within --login_failure_window_s "
          "before further attempts get 429; 0: no per-account limit.");
ABSL_FLAG(int, login_failures_per_address, 50,
          "Failed logins allowed per client IP address within --login_failure_window_s; 0: no "
          "per-address limit.");
ABSL_FLAG(int, login_failure_window_s, 900,
          "The window of the failed-login limits: a token bucket of the allowed failures that "
          "refills fully over this many seconds.");
// --- end failed-login limits ---
ABSL_FLAG(int, delivery_workers, 4, "Concurrent sends per channel.");
ABSL_FLAG(std::string, slack_api_url, "https://slack.com/api",
          "Slack Web API base URL (chat.postMessage).");
ABSL_FLAG(std::string, fcm_api_url, "https://fcm.googleapis.com", "FCM HTTP v1 base URL.");
ABSL_FLAG(std::string, fcm_token_url, "",
          "OAuth token URL for FCM; empty: each service account's token_uri.");

namespace alerthub::server {

absl::StatusOr<AppOptions> ParseDaemonFlags(int argc, char** argv, absl::string_view usage) {
  // Abseil's mutex deadlock detector keeps a lock graph on every acquisition;
  // it is a debugging aid that costs the request path dearly, so daemons run
  // without it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(usage);
  // --help lists AlertHub's own flags (absl's default looks for a file named
  // after the program).
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "daemons/") ||
           absl::StrContains(file, "alerthub/server/daemon_flags");
  };
  usage_config.contains_helpshort_flags = usage_config.contains_help_flags;
  absl::SetFlagsUsageConfig(usage_config);
  if (absl::Status s = ApplyEnvironmentToFlags(); !s.ok()) return s;
  absl::ParseCommandLine(argc, argv);

  AppOptions o;
  o.engine.store = absl::GetFlag(FLAGS_store);
  o.engine.bus = absl::GetFlag(FLAGS_bus);
  o.engine.queue = absl::GetFlag(FLAGS_queue);
  o.engine.kv = absl::GetFlag(FLAGS_kv);
  RateLimitOptions& rl = o.engine.pipeline.rate_limit;
  rl.enabled = absl::GetFlag(FLAGS_rate_limit_enabled);
  rl.fail_open = absl::GetFlag(FLAGS_rate_limit_fail_open);
  rl.tenant = {absl::GetFlag(FLAGS_rate_limit_per_second), absl::GetFlag(FLAGS_rate_limit_burst)};
  rl.endpoint = rl.tenant;
  if (rl.enabled && (!(rl.tenant.rate_per_second > 0) || !(rl.tenant.burst > 0))) {
    return absl::InvalidArgumentError(
        "--rate_limit_per_second and --rate_limit_burst must be positive "
        "(use --rate_limit_enabled=false to turn limits off)");
  }
  if (absl::GetFlag(FLAGS_dedup_window_s) < 0) {
    return absl::InvalidArgumentError("--dedup_window_s must be >= 0");
  }
  o.engine.pipeline.default_dedup_window = absl::Seconds(absl::GetFlag(FLAGS_dedup_window_s));
  o.http.address = absl::GetFlag(FLAGS_http_address);
  o.http.port = absl::GetFlag(FLAGS_http_port);
  o.http.handler_threads = absl::GetFlag(FLAGS_handler_threads);
  o.http.io_threads = absl::GetFlag(FLAGS_io_threads);
  o.http.header_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_http_header_timeout_ms));
  o.http.idle_timeout = absl::Seconds(absl::GetFlag(FLAGS_http_idle_timeout_s));
  if (!absl::GetFlag(FLAGS_access_log)) o.http.access_log = nullptr;
  // Beast pings after half the idle timeout and drops the peer after the
  // whole of it.
  o.http.ws_idle_timeout = absl::Seconds(2 * absl::GetFlag(FLAGS_ws_ping_interval_s));
  o.shutdown_grace = absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_s));

  o.bootstrap_key_file = absl::GetFlag(FLAGS_bootstrap_key_file);
  o.admin.grpc_port = absl::GetFlag(FLAGS_grpc_port);
  if (o.admin.grpc_port < -1 || o.admin.grpc_port > 65535) {
    return absl::InvalidArgumentError("--grpc_port must be 0-65535");
  }
  o.admin.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  o.admin.jwt.signing_key_file = absl::GetFlag(FLAGS_jwt_signing_key_file);
  o.admin.jwt.verification_key_files = absl::GetFlag(FLAGS_jwt_verification_key_files);
  o.admin.jwt.issuer = absl::GetFlag(FLAGS_jwt_issuer);
  o.admin.jwt.audience = absl::GetFlag(FLAGS_jwt_audience);
  const int refresh_days = absl::GetFlag(FLAGS_refresh_token_ttl_days);
  if (refresh_days < 1 || refresh_days > 365) {
    return absl::InvalidArgumentError("--refresh_token_ttl_days must be 1-365");
  }
  o.admin.refresh_token_ttl = absl::Hours(24 * refresh_days);
  // --- Failed-login limits ---
  {
    const int per_account = absl::GetFlag(FLAGS_login_failures_per_account);
    const int per_address = absl::GetFlag(FLAGS_login_failures_per_address);
    const int window_s = absl::GetFlag(FLAGS_login_failure_window_s);
    if (per_account < 0 || per_address < 0) {
      return absl::InvalidArgumentError(
          "--login_failures_per_account and --login_failures_per_address must be >= 0");
    }
    if (window_s < 1 || window_s > 86400) {
      return absl::InvalidArgumentError("--login_failure_window_s must be 1-86400");
    }
    // A count of 0 is a bucket of burst 0: that limit is off.
    o.admin.login_limits.per_account = {static_cast<double>(per_account) / window_s,
                                        static_cast<double>(per_account)};
    o.admin.login_limits.per_address = {static_cast<double>(per_address) / window_s,
                                        static_cast<double>(per_address)};
    o.admin.login_limits.fail_open = rl.fail_open;
  }

  DeliveryAppOptions& d = o.delivery;
  d.enabled = absl::GetFlag(FLAGS_deliver);
  d.allow_private_networks = absl::GetFlag(FLAGS_allow_private_networks);
  d.secrets_key_file = absl::GetFlag(FLAGS_secrets_key_file);
  d.secrets_key = absl::GetFlag(FLAGS_secrets_key);
  const int workers = absl::GetFlag(FLAGS_delivery_workers);
  if (workers < 1 || workers > 256) {
    return absl::InvalidArgumentError("--delivery_workers must be 1-256");
  }
  d.dispatcher.workers_per_channel = workers;
  d.channels.slack_api_base_url = absl::GetFlag(FLAGS_slack_api_url);
  d.channels.fcm_base_url = absl::GetFlag(FLAGS_fcm_api_url);
  d.channels.fcm_token_url = absl::GetFlag(FLAGS_fcm_token_url);
  return o;
}

}  // namespace alerthub::server
