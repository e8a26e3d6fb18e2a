#include "alerthub/adapters/sqlite/internal/schema.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "alerthub/adapters/sqlite/internal/audit_table.h"
#include "alerthub/adapters/sqlite/internal/auth_tables.h"
#include "alerthub/adapters/sqlite/internal/tenant_tables.h"
#include "alerthub/common/status.h"

namespace alerthub::sqlite_internal {
namespace {

// Timestamps are integer microseconds since the Unix epoch. Enums are stored
// as their (never renumbered) numbers.
constexpr Migration kStoreMigrations[] = {
    {1, "initial schema", R"sql(
CREATE TABLE tenants (
  id         TEXT PRIMARY KEY NOT NULL,
  name       TEXT NOT NULL UNIQUE,
  settings   TEXT NOT NULL,             -- TenantSettingsToJson()
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_keys (
  id         TEXT PRIMARY KEY NOT NULL,
  tenant_id  TEXT NOT NULL REFERENCES tenants (id),
  name       TEXT NOT NULL,
  prefix     TEXT NOT NULL,
  key_hash   TEXT NOT NULL UNIQUE,      -- lowercase hex SHA-256 of the token
  role       INTEGER NOT NULL,          -- Role
  created_at INTEGER NOT NULL,
  revoked_at INTEGER                    -- NULL while the key is valid
) WITHOUT ROWID;
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at);

-- `doc` is NotificationToJson(); the columns beside it are what queries
-- filter on. `status` and `updated_at` are authoritative over the copies in
-- `doc`, so a status change updates two integer columns only.
CREATE TABLE notifications (
  id         TEXT PRIMARY KEY NOT NULL, -- UUIDv7: increasing, so appends
  tenant_id  TEXT NOT NULL,
  type       TEXT NOT NULL,
  status     INTEGER NOT NULL,          -- NotificationStatus
  priority   INTEGER NOT NULL,          -- Priority
  dedup_key  TEXT,                      -- NULL when the submission had none
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  doc        TEXT NOT NULL
);
-- The source of truth for dedup. Partial: rows without a key (the common
-- case) cost no entry. NULLs never conflict, so this is UNIQUE(tenant_id,
-- dedup_key) as the model describes it.
CREATE UNIQUE INDEX notifications_dedup
  ON notifications (tenant_id, dedup_key) WHERE dedup_key IS NOT NULL;
-- Tenant-scoped listing, newest first by id (keyset paging on id). `type`
-- rides along so a type filter is checked in the index, without reading rows.
CREATE INDEX notifications_by_tenant ON notifications (tenant_id, id, type);
-- Status filters. Partial: every notification is inserted `accepted` (1), so
-- the hot insert path adds no entry here; rows enter when their status
-- changes. Queries for another status repeat `status <> 1` so the planner may
-- use it (ListNotificationsSql); `accepted` ones (the newest, usually few)
-- scan by tenant.
CREATE INDEX notifications_by_status
  ON notifications (tenant_id, status, id) WHERE status <> 1;

-- A notification's history. `seq` orders events as they were committed.
CREATE TABLE events (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE, -- CloudEvent id (UUIDv7)
  tenant_id       TEXT NOT NULL,
  notification_id TEXT NOT NULL,
  type            TEXT NOT NULL,
  time            INTEGER NOT NULL,
  doc             TEXT NOT NULL         -- CloudEventToJson()
);
CREATE INDEX events_by_notification ON events (notification_id);

-- Transactional outbox: rows are written with their notification and
-- published by the relay. `seq` is never reused (PurgeSentOutbox keeps the
-- newest row), so it increases in commit order.
CREATE TABLE outbox (
  seq           INTEGER PRIMARY KEY,
  topic         TEXT NOT NULL,
  key           TEXT NOT NULL,
  payload       BLOB NOT NULL,
  created_at    INTEGER NOT NULL,
  claimed_until INTEGER,                -- lease of the current claim, if any
  sent_at       INTEGER                 -- NULL until the broker acknowledged
);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;

-- Work queues (`sql://`). `visible_at` is when a consumer may lease the
-- task: its available_at while ready, the end of its lease while leased,
-- NULL while dead, so one index serves both new and expired-lease work.
CREATE TABLE tasks (
  queue        TEXT NOT NULL,
  id           TEXT NOT NULL,
  payload      BLOB NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('ready', 'leased', 'dead')),
  attempts     INTEGER NOT NULL DEFAULT 0, -- leases handed out so far
  available_at INTEGER NOT NULL,
  visible_at   INTEGER,
  receipt      TEXT,                    -- the current lease's handle
  last_error   TEXT NOT NULL DEFAULT '',
  enqueued_at  INTEGER NOT NULL,
  dead_at      INTEGER,
  PRIMARY KEY (queue, id),
  CHECK ((state = 'dead') = (visible_at IS NULL))
) WITHOUT ROWID;
CREATE INDEX tasks_visible ON tasks (queue, visible_at) WHERE visible_at IS NOT NULL;
CREATE INDEX tasks_dead ON tasks (queue, dead_at) WHERE state = 'dead';
)sql"},
    {2, "integrations, templates and deliveries", R"sql(
-- Columns, not a JSON document: `config` holds encrypted secrets the
-- request validation would not accept, and is read back as stored.
CREATE TABLE integrations (
  id         TEXT PRIMARY KEY NOT NULL,
  tenant_id  TEXT NOT NULL,
  name       TEXT NOT NULL,
  channel    INTEGER NOT NULL,          -- Channel
  config     TEXT NOT NULL,             -- JSON object
  enabled    INTEGER NOT NULL,
  is_default INTEGER NOT NULL,
  retry      TEXT NOT NULL,             -- JSON: the schedule override, or null
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX integrations_by_tenant ON integrations (tenant_id, id);

CREATE TABLE templates (
  id         TEXT PRIMARY KEY NOT NULL,
  tenant_id  TEXT NOT NULL,
  channel    INTEGER NOT NULL,          -- Channel
  name       TEXT NOT NULL,
  doc        TEXT NOT NULL,             -- TemplateToJson()
  UNIQUE (tenant_id, channel, name)
) WITHOUT ROWID;
CREATE INDEX templates_by_tenant ON templates (tenant_id, id);

-- One row per (notification, integration, recipient): routing inserts with
-- ON CONFLICT DO NOTHING, so a replayed event creates nothing twice.
CREATE TABLE deliveries (
  id              TEXT PRIMARY KEY NOT NULL, -- UUIDv7; the webhook-id
  tenant_id       TEXT NOT NULL,
  notification_id TEXT NOT NULL,
  integration_id  TEXT NOT NULL,
  channel         INTEGER NOT NULL,     -- Channel
  recipient       TEXT NOT NULL,        -- '' when not recipient-targeted
  status          INTEGER NOT NULL,     -- DeliveryStatus
  attempts        INTEGER NOT NULL,
  next_attempt_at INTEGER,
  lease_until     INTEGER,              -- while sending: the claim's end
  last_error      TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  UNIQUE (notification_id, integration_id, recipient)
) WITHOUT ROWID;
CREATE INDEX deliveries_by_tenant ON deliveries (tenant_id, id);
CREATE INDEX deliveries_by_status ON deliveries (tenant_id, status, id);
-- Unfinished deliveries (pending 1, sending 2, held 5) for the start-up sweep.
CREATE INDEX deliveries_unfinished ON deliveries (id) WHERE status IN (1, 2, 5);
)sql"},
    {3, "rules, users and preferences", R"sql(
-- `doc` is RuleToJson(); `position` beside it orders a tenant's rules.
CREATE TABLE rules (
  id         TEXT PRIMARY KEY NOT NULL,
  tenant_id  TEXT NOT NULL REFERENCES tenants (id),
  position   INTEGER NOT NULL,
  doc        TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX rules_by_tenant ON rules (tenant_id, position, id);

-- `doc` is UserToJson(); `email` beside it is unique per tenant regardless
-- of (ASCII) case. `preferences` is PreferencesToJson(), NULL until set, so
-- a user and their preferences are deleted together.
CREATE TABLE users (
  id          TEXT PRIMARY KEY NOT NULL,
  tenant_id   TEXT NOT NULL REFERENCES tenants (id),
  email       TEXT NOT NULL,
  doc         TEXT NOT NULL,
  preferences TEXT
) WITHOUT ROWID;
CREATE UNIQUE INDEX users_email ON users (tenant_id, email COLLATE NOCASE);
CREATE INDEX users_by_tenant ON users (tenant_id, id);
)sql"},
    // Users' password hashes and refresh tokens (internal/auth_tables.cc).
    {4, "auth_sessions", kAuthSessionsMigrationSql},
    // Digests (a rule's `digest` action; Store "Digests" in ports/store.h).
    {5, "delivery_digests", R"sql(
-- '' for deliveries not held for a digest.
ALTER TABLE deliveries ADD COLUMN digest_key TEXT NOT NULL DEFAULT '';
-- A digest group's members. Partial: ordinary deliveries cost no entry.
CREATE INDEX deliveries_by_digest
  ON deliveries (tenant_id, integration_id, recipient, digest_key, status)
  WHERE digest_key <> '';
-- One row per digest group that was routed to: when it last flushed.
CREATE TABLE digest_groups (
  tenant_id      TEXT NOT NULL,
  integration_id TEXT NOT NULL,
  recipient      TEXT NOT NULL,
  digest_key     TEXT NOT NULL,
  last_flush_at  INTEGER,               -- NULL until the first summary
  PRIMARY KEY (tenant_id, integration_id, recipient, digest_key)
) WITHOUT ROWID;
)sql"},
    // Soft-deleted tenants (internal/tenant_tables.cc).
    {6, "tenant_admin", kTenantAdminMigrationSql},
    // The audit log (internal/audit_table.cc).
    {7, "audit_log", kAuditLogMigrationSql},
};

constexpr char kCreateMigrationsTable[] = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY NOT NULL,
  name       TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

absl::Status ApplyPending(Connection& conn, absl::Span<const Migration> migrations,
                          absl::Time now, int* version) {
  ALERTHUB_RETURN_IF_ERROR(conn.Exec(kCreateMigrationsTable));
  ALERTHUB_ASSIGN_OR_RETURN(*version, SchemaVersion(conn));
  const int latest = static_cast<int>(migrations.size());
  if (*version > latest) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sqlite: the database has schema version ", *version,
        ", newer than the latest this binary knows (", latest,
        "); run a newer AlertHub"));
  }
  for (const Migration& m : migrations.subspan(static_cast<size_t>(*version))) {
    ALERTHUB_RETURN_IF_ERROR(conn.Exec(m.sql));
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement record,
        conn.Prepare("INSERT INTO schema_migrations (version, name, applied_at) "
                     "VALUES (?1, ?2, ?3)"));
    record.BindInt64(1, m.version);
    record.BindText(2, m.name);
    record.BindInt64(3, absl::ToUnixMicros(now));
    absl::Status s = record.Run();
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("recording migration ", m.version,
                                                 ": ", s.message()));
    }
    *version = m.version;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Span<const Migration> StoreMigrations() { return kStoreMigrations; }

std::string ListNotificationsSql(const NotificationFilter& f) {
  std::string sql =
      "SELECT status, updated_at, doc FROM notifications WHERE tenant_id = ?1";
  if (f.status.has_value()) {
    absl::StrAppend(&sql, " AND status = ?2");
    // Repeats the WHERE of the partial index notifications_by_status, which
    // holds every status but accepted, so the planner may use it.
    if (*f.status != NotificationStatus::kAccepted) absl::StrAppend(&sql, " AND status <> 1");
  }
  if (!f.type.empty()) absl::StrAppend(&sql, " AND type = ?3");
  if (f.since.has_value()) absl::StrAppend(&sql, " AND created_at >= ?4");
  if (!f.before_id.empty()) absl::StrAppend(&sql, " AND id < ?5");
  absl::StrAppend(&sql, " ORDER BY id DESC LIMIT ?6");
  return sql;
}

absl::StatusOr<int> SchemaVersion(Connection& conn) {
  {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement exists,
        conn.Prepare("SELECT 1 FROM sqlite_master "
                     "WHERE type = 'table' AND name = 'schema_migrations'"));
    ALERTHUB_ASSIGN_OR_RETURN(bool found, exists.Step());
    if (!found) return 0;
  }
  ALERTHUB_ASSIGN_OR_RETURN(
      Statement stmt,
      conn.Prepare("SELECT coalesce(max(version), 0) FROM schema_migrations"));
  ALERTHUB_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::InternalError("sqlite: reading the schema version");
  return static_cast<int>(stmt.ColumnInt64(0));
}

absl::StatusOr<int> ApplyMigrations(Connection& conn,
                                    absl::Span<const Migration> migrations,
                                    absl::Time now) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return absl::InternalError(absl::StrCat(
          "sqlite: migration #", i, " has version ", migrations[i].version,
          "; versions must be 1, 2, 3, ..."));
    }
  }
  // IMMEDIATE takes the write lock before reading the version, so a second
  // process opening the same file waits and then finds the work done.
  ALERTHUB_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
  int version = 0;
  absl::Status s = ApplyPending(conn, migrations, now, &version);
  if (s.ok()) s = conn.Exec("COMMIT");
  if (!s.ok()) {
    if (!conn.InAutocommit()) conn.Exec("ROLLBACK").IgnoreError();
    return s;
  }
  return version;
}

}  // namespace alerthub::sqlite_internal
