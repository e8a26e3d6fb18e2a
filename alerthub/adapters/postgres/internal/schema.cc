#include "alerthub/adapters/postgres/internal/schema.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "alerthub/adapters/postgres/internal/audit_log.h"
#include "alerthub/common/status.h"

namespace alerthub::postgres_internal {
namespace {

// The tables of the SQLite adapter (sqlite/internal/schema.cc), in
// PostgreSQL types; the comments there say why each index exists.
constexpr Migration kStoreMigrations[] = {
    {1, "initial schema", R"sql(
CREATE TABLE tenants (
  id         text PRIMARY KEY,
  name       text NOT NULL UNIQUE,
  settings   text NOT NULL,             -- TenantSettingsToJson()
  created_at bigint NOT NULL
);

CREATE TABLE api_keys (
  id         text PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  name       text NOT NULL,
  prefix     text NOT NULL,
  key_hash   text NOT NULL UNIQUE,      -- lowercase hex SHA-256 of the token
  role       integer NOT NULL,          -- Role
  created_at bigint NOT NULL,
  revoked_at bigint                     -- NULL while the key is valid
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at);

-- `doc` is NotificationToJson(); `status` and `updated_at` are
-- authoritative over the copies in it.
CREATE TABLE notifications (
  id         text PRIMARY KEY,          -- UUIDv7: increasing
  tenant_id  text NOT NULL,
  type       text NOT NULL,
  status     integer NOT NULL,          -- NotificationStatus
  priority   integer NOT NULL,          -- Priority
  dedup_key  text,                      -- NULL when the submission had none
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  doc        text NOT NULL
);
-- The source of truth for dedup (ON CONFLICT DO NOTHING in CommitSubmissions).
CREATE UNIQUE INDEX notifications_dedup
  ON notifications (tenant_id, dedup_key) WHERE dedup_key IS NOT NULL;
CREATE INDEX notifications_by_tenant ON notifications (tenant_id, id) INCLUDE (type);
CREATE INDEX notifications_by_status
  ON notifications (tenant_id, status, id) WHERE status <> 1;

CREATE TABLE events (
  seq             bigserial PRIMARY KEY,
  id              text NOT NULL UNIQUE, -- CloudEvent id (UUIDv7)
  tenant_id       text NOT NULL,
  notification_id text NOT NULL,
  type            text NOT NULL,
  time            bigint NOT NULL,
  doc             text NOT NULL         -- CloudEventToJson()
);
CREATE INDEX events_by_notification ON events (notification_id, seq);

-- Transactional outbox. `seq` increases in insertion order (a sequence; rows
-- of concurrent transactions may commit out of seq order, which only
-- reorders publication).
CREATE TABLE outbox (
  seq           bigserial PRIMARY KEY,
  topic         text NOT NULL,
  key           text NOT NULL,
  payload       text NOT NULL,
  created_at    bigint NOT NULL,
  claimed_until bigint,                 -- lease of the current claim, if any
  sent_at       bigint                  -- NULL until the broker acknowledged
);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;

-- Work queues (`sql://`), as in SQLite: `visible_at` is when a consumer may
-- lease the task (available_at while ready, the lease's end while leased,
-- NULL while dead).
CREATE TABLE tasks (
  queue        text NOT NULL,
  id           text NOT NULL,
  payload      bytea NOT NULL,
  state        text NOT NULL CHECK (state IN ('ready', 'leased', 'dead')),
  attempts     integer NOT NULL DEFAULT 0,
  available_at bigint NOT NULL,
  visible_at   bigint,
  receipt      text,
  last_error   text NOT NULL DEFAULT '',
  enqueued_at  bigint NOT NULL,
  dead_at      bigint,
  PRIMARY KEY (queue, id),
  CHECK ((state = 'dead') = (visible_at IS NULL))
);
CREATE INDEX tasks_visible ON tasks (queue, visible_at) WHERE visible_at IS NOT NULL;
CREATE INDEX tasks_dead ON tasks (queue, dead_at) WHERE state = 'dead';
)sql"},
    {2, "integrations, templates and deliveries", R"sql(
CREATE TABLE integrations (
  id         text PRIMARY KEY,
  tenant_id  text NOT NULL,
  name       text NOT NULL,
  channel    integer NOT NULL,          -- Channel
  config     text NOT NULL,             -- JSON object, verbatim
  enabled    boolean NOT NULL,
  is_default boolean NOT NULL,
  retry      text NOT NULL,             -- JSON: the schedule override, or null
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX integrations_by_tenant ON integrations (tenant_id, id);

CREATE TABLE templates (
  id         text PRIMARY KEY,
  tenant_id  text NOT NULL,
  channel    integer NOT NULL,          -- Channel
  name       text NOT NULL,
  doc        text NOT NULL,             -- TemplateToJson()
  CONSTRAINT templates_name UNIQUE (tenant_id, channel, name)
);
CREATE INDEX templates_by_tenant ON templates (tenant_id, id);

CREATE TABLE deliveries (
  id              text PRIMARY KEY,     -- UUIDv7; the webhook-id
  tenant_id       text NOT NULL,
  notification_id text NOT NULL,
  integration_id  text NOT NULL,
  channel         integer NOT NULL,     -- Channel
  recipient       text NOT NULL,        -- '' when not recipient-targeted
  status          integer NOT NULL,     -- DeliveryStatus
  attempts        integer NOT NULL,
  next_attempt_at bigint,
  lease_until     bigint,               -- while sending: the claim's end
  last_error      text NOT NULL,
  created_at      bigint NOT NULL,
  updated_at      bigint NOT NULL,
  UNIQUE (notification_id, integration_id, recipient)
);
CREATE INDEX deliveries_by_tenant ON deliveries (tenant_id, id);
CREATE INDEX deliveries_by_status ON deliveries (tenant_id, status, id);
CREATE INDEX deliveries_unfinished ON deliveries (id) WHERE status IN (1, 2, 5);
)sql"},
    {3, "rules, users and preferences", R"sql(
-- `doc` is RuleToJson(); the columns beside it are what ListRules orders by.
CREATE TABLE rules (
  id         text PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  position   integer NOT NULL,
  created_at bigint NOT NULL,
  doc        text NOT NULL
);
CREATE INDEX rules_by_position ON rules (tenant_id, position, id);

-- `doc` is UserToJson(). One e-mail address per tenant, compared
-- case-insensitively.
CREATE TABLE users (
  id         text PRIMARY KEY,
  tenant_id  text NOT NULL REFERENCES tenants (id),
  email      text NOT NULL,
  created_at bigint NOT NULL,
  doc        text NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (tenant_id, lower(email));
CREATE INDEX users_by_tenant ON users (tenant_id, id);

-- Absent until first set (GetPreferences then returns the defaults).
CREATE TABLE preferences (
  user_id    text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  tenant_id  text NOT NULL,
  doc        text NOT NULL              -- PreferencesToJson()
);
)sql"},
    // Users' password hashes and refresh tokens (postgres_store_auth.cc).
    {4, "auth_sessions", R"sql(
-- The Argon2id string of the user's password (never the password); NULL
-- until one is set. It goes with the user's row.
ALTER TABLE users ADD COLUMN password_hash text;

-- Refresh tokens, by the lowercase hex SHA-256 of the opaque token (never
-- the token). A family is one login session: each rotation marks the
-- presented token used and inserts its successor.
CREATE TABLE refresh_tokens (
  token_hash text PRIMARY KEY,
  family_id  text NOT NULL,
  tenant_id  text NOT NULL,
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  issued_at  bigint NOT NULL,
  expires_at bigint NOT NULL,
  used_at    bigint,                    -- NULL until rotated
  revoked_at bigint                     -- NULL until the family is revoked
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);
)sql"},
    // Digests (a rule's `digest` action; Store "Digests" in ports/store.h).
    // digest_groups rows are also the lock that serializes a group's
    // routings and claims.
    {5, "delivery_digests", R"sql(
ALTER TABLE deliveries ADD COLUMN digest_key text NOT NULL DEFAULT '';
CREATE INDEX deliveries_by_digest
  ON deliveries (tenant_id, integration_id, recipient, digest_key, status)
  WHERE digest_key <> '';
CREATE TABLE digest_groups (
  tenant_id      text NOT NULL,
  integration_id text NOT NULL,
  recipient      text NOT NULL,
  digest_key     text NOT NULL,
  last_flush_at  bigint,                -- NULL until the first summary
  PRIMARY KEY (tenant_id, integration_id, recipient, digest_key)
);
)sql"},
    // Soft-deleted tenants (postgres_store_tenants.cc). NULL while the
    // tenant is live; deleted tenants keep their row and so their name.
    {6, "tenant_admin", R"sql(
ALTER TABLE tenants ADD COLUMN deleted_at bigint;
)sql"},
    // The audit log (internal/audit_log.cc).
    {7, "audit_log", kAuditLogMigrationSql},
};

constexpr char kCreateMigrationsTable[] = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at bigint NOT NULL
))sql";

absl::StatusOr<int> ApplyPending(Connection& conn, absl::Span<const Migration> migrations,
                                 absl::Time now) {
  // Every opener of this schema takes the same lock, held until COMMIT: the
  // first applies the migrations, the others wait and find them applied.
  ALERTHUB_RETURN_IF_ERROR(
      conn.Query("SELECT pg_advisory_xact_lock(hashtext('alerthub.schema_migrations.' || "
                 "current_schema()))")
          .status());
  ALERTHUB_RETURN_IF_ERROR(conn.Exec(kCreateMigrationsTable));
  int version = 0;
  {
    ALERTHUB_ASSIGN_OR_RETURN(
        Result r, conn.Query("SELECT coalesce(max(version), 0) FROM schema_migrations"));
    version = static_cast<int>(r.Int(0, 0));
  }
  const int latest = static_cast<int>(migrations.size());
  if (version > latest) {
    return absl::FailedPreconditionError(absl::StrCat(
        "postgres: the database has schema version ", version,
        ", newer than the latest this binary knows (", latest, "); run a newer AlertHub"));
  }
  for (const Migration& m : migrations.subspan(static_cast<size_t>(version))) {
    absl::Status s = conn.Exec(m.sql);
    if (s.ok()) {
      s = conn.Query("INSERT INTO schema_migrations (version, name, applied_at) "
                     "VALUES ($1, $2, $3)",
                     Params().Int(m.version).Text(m.name).Int(absl::ToUnixMicros(now)))
              .status();
    }
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("applying migration ", m.version, " (",
                                                 m.name, "): ", s.message()));
    }
    version = m.version;
  }
  return version;
}

}  // namespace

absl::Span<const Migration> StoreMigrations() { return kStoreMigrations; }

absl::StatusOr<int> ApplyMigrations(Connection& conn, absl::Span<const Migration> migrations,
                                    absl::Time now) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return absl::InternalError(absl::StrCat("postgres: migration #", i, " has version ",
                                              migrations[i].version,
                                              "; versions must be 1, 2, 3, ..."));
    }
  }
  ALERTHUB_RETURN_IF_ERROR(conn.Exec("BEGIN"));
  absl::StatusOr<int> version = ApplyPending(conn, migrations, now);
  absl::Status s = version.status();
  if (s.ok()) s = conn.Exec("COMMIT");
  if (!s.ok()) {
    if (conn.in_transaction() && !conn.broken()) conn.Exec("ROLLBACK").IgnoreError();
    return s;
  }
  return version;
}

}  // namespace alerthub::postgres_internal
