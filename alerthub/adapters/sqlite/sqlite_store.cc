#include "alerthub/adapters/sqlite/sqlite_store.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/adapters/sqlite/internal/connection.h"
#include "alerthub/adapters/sqlite/internal/database.h"
#include "alerthub/adapters/sqlite/internal/delivery_tables.h"
#include "alerthub/adapters/sqlite/internal/analytics_queries.h"
#include "alerthub/adapters/sqlite/internal/audit_table.h"
#include "alerthub/adapters/sqlite/internal/auth_tables.h"
#include "alerthub/adapters/sqlite/internal/privacy_tables.h"
#include "alerthub/adapters/sqlite/internal/rule_user_tables.h"
#include "alerthub/adapters/sqlite/internal/schema.h"
#include "alerthub/adapters/sqlite/internal/task_queue.h"
#include "alerthub/adapters/sqlite/internal/tenant_tables.h"
#include "alerthub/common/status.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using sqlite_internal::Connection;
using sqlite_internal::Database;
using sqlite_internal::Statement;

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// --- URL parsing -------------------------------------------------------------

constexpr absl::string_view kUrlForms =
    "expected sqlite:///abs/path.db, sqlite://relative/path.db or sqlite://:memory:";

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(absl::string_view in, absl::string_view url) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    const int hi = i + 2 < in.size() ? HexDigit(in[i + 1]) : -1;
    const int lo = i + 2 < in.size() ? HexDigit(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "store URL \"", url, "\": bad percent-escape at offset ", i, " of the path"));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// --- Submissions -------------------------------------------------------------

// A submission with its JSON documents, rendered outside the writer's
// critical section (by the caller when it supplied them).
struct PreparedRow {
  const SubmissionWrite* write;
  absl::string_view notification_doc;
  absl::string_view event_doc;
};

constexpr absl::string_view kInsertNotificationSql =
    "INSERT INTO notifications (id, tenant_id, type, status, priority, dedup_key, "
    "created_at, updated_at, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (tenant_id, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING";
constexpr absl::string_view kSelectByDedupSql =
    "SELECT id FROM notifications WHERE tenant_id = ?1 AND dedup_key = ?2";
constexpr absl::string_view kInsertEventSql =
    "INSERT INTO events (id, tenant_id, notification_id, type, time, doc) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr absl::string_view kInsertOutboxSql =
    "INSERT INTO outbox (topic, key, payload, created_at) VALUES (?1, ?2, ?3, ?4)";

struct SubmissionStatements {
  Statement insert_notification;
  Statement select_by_dedup;
  Statement insert_event;
  Statement insert_outbox;
};

absl::Status WithSubmissionContext(const absl::Status& s, size_t index,
                                   const Notification& n) {
  if (s.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(absl::StrCat(
        "submissions[", index, "]: notification id \"", n.id,
        "\" or its accepted event id is already stored: ", s.message()));
  }
  return absl::Status(s.code(), absl::StrCat("submissions[", index, "]: ", s.message()));
}

// Writes the rows of one call. Duplicates (by tenant and dedup key, against
// the table as it stands inside this transaction, so earlier rows of the same
// call and group count) write nothing and report the original's id.
absl::Status WriteRows(SubmissionStatements& st, absl::Span<const PreparedRow> rows,
                       int64_t now, std::vector<SubmissionOutcome>* outcomes) {
  outcomes->clear();
  outcomes->reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const PreparedRow& row = rows[i];
    const Notification& n = row.write->notification;
    Statement& ins = st.insert_notification;
    ins.Reset();
    ins.BindText(1, n.id);
    ins.BindText(2, n.tenant_id);
    ins.BindText(3, n.type);
    ins.BindInt64(4, static_cast<int64_t>(n.status));
    ins.BindInt64(5, static_cast<int64_t>(n.priority));
    ins.BindTextOrNull(6, n.dedup_key);
    ins.BindInt64(7, Micros(n.created_at));
    ins.BindInt64(8, Micros(n.updated_at));
    ins.BindText(9, row.notification_doc);
    absl::Status s = ins.Run();
    if (!s.ok()) return WithSubmissionContext(s, i, n);

    if (ins.Changes() == 0) {
      Statement& sel = st.select_by_dedup;
      sel.Reset();
      sel.BindText(1, n.tenant_id);
      sel.BindText(2, n.dedup_key);
      absl::StatusOr<bool> found = sel.Step();
      if (!found.ok()) return WithSubmissionContext(found.status(), i, n);
      if (!*found) {
        return absl::InternalError(absl::StrCat(
            "submissions[", i, "]: insert of \"", n.id,
            "\" was skipped but no notification has its dedup key"));
      }
      outcomes->push_back({std::string(sel.ColumnText(0)), /*duplicate=*/true});
      continue;
    }

    const CloudEvent& e = row.write->accepted_event;
    Statement& ev = st.insert_event;
    ev.Reset();
    ev.BindText(1, e.id);
    ev.BindText(2, n.tenant_id);
    ev.BindText(3, n.id);
    ev.BindText(4, e.type);
    ev.BindInt64(5, Micros(e.time));
    ev.BindText(6, row.event_doc);
    s = ev.Run();
    if (!s.ok()) return WithSubmissionContext(s, i, n);

    Statement& ob = st.insert_outbox;
    ob.Reset();
    ob.BindText(1, row.write->outbox_topic);
    ob.BindText(2, n.id);
    ob.BindBlob(3, row.write->outbox_payload);
    ob.BindInt64(4, now);
    s = ob.Run();
    if (!s.ok()) return WithSubmissionContext(s, i, n);

    outcomes->push_back({n.id, /*duplicate=*/false});
  }
  return absl::OkStatus();
}

// --- Row decoding --------------------------------------------------------------

absl::StatusOr<nlohmann::json> ParseDoc(absl::string_view doc, absl::string_view what) {
  nlohmann::json j = nlohmann::json::parse(doc.begin(), doc.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InternalError(absl::StrCat("sqlite: corrupt row: ", what,
                                            " is not valid JSON"));
  }
  return j;
}

// Columns: status, updated_at, doc.
absl::StatusOr<Notification> NotificationFromRow(const Statement& s, int first) {
  ALERTHUB_ASSIGN_OR_RETURN(nlohmann::json j,
                            ParseDoc(s.ColumnText(first + 2), "notifications.doc"));
  absl::StatusOr<Notification> n = absl::InternalError("unset");
  try {
    n = NotificationFromJson(j);
  } catch (const nlohmann::json::exception& e) {
    n = absl::InvalidArgumentError(e.what());
  }
  if (!n.ok()) {
    return absl::InternalError(
        absl::StrCat("sqlite: corrupt row in notifications: ", n.status().message()));
  }
  n->status = static_cast<NotificationStatus>(s.ColumnInt64(first));
  n->updated_at = FromMicros(s.ColumnInt64(first + 1));
  return n;
}

absl::StatusOr<CloudEvent> EventFromDoc(absl::string_view doc) {
  ALERTHUB_ASSIGN_OR_RETURN(nlohmann::json j, ParseDoc(doc, "events.doc"));
  absl::StatusOr<CloudEvent> e = absl::InternalError("unset");
  try {
    e = CloudEventFromJson(j);
  } catch (const nlohmann::json::exception& ex) {
    e = absl::InvalidArgumentError(ex.what());
  }
  if (!e.ok()) {
    return absl::InternalError(
        absl::StrCat("sqlite: corrupt row in events: ", e.status().message()));
  }
  return e;
}

constexpr absl::string_view kApiKeyColumns =
    "id, tenant_id, name, prefix, key_hash, role, created_at, revoked_at";

ApiKey ApiKeyFromRow(const Statement& s) {
  ApiKey k;
  k.id = std::string(s.ColumnText(0));
  k.tenant_id = std::string(s.ColumnText(1));
  k.name = std::string(s.ColumnText(2));
  k.prefix = std::string(s.ColumnText(3));
  k.key_hash = std::string(s.ColumnText(4));
  k.role = static_cast<Role>(s.ColumnInt64(5));
  k.created_at = FromMicros(s.ColumnInt64(6));
  if (!s.ColumnIsNull(7)) k.revoked_at = FromMicros(s.ColumnInt64(7));
  return k;
}

// --- The store -----------------------------------------------------------------

class SqliteStoreImpl final : public SqliteStore {
 public:
  explicit SqliteStoreImpl(std::shared_ptr<Database> db)
      : db_(db), tables_(db), rules_(db), auth_(db), tenants_(db), audit_(db),
        privacy_(std::move(db)) {}

  absl::Status CreateTenant(const Tenant& tenant) override {
    return CreateTenantAndKey(tenant, nullptr);
  }

  absl::Status CreateTenantWithKey(const Tenant& tenant, const ApiKey& first_key) override {
    return CreateTenantAndKey(tenant, &first_key);
  }

  absl::StatusOr<Tenant> GetTenant(absl::string_view id) override {
    return ReadTenant("SELECT id, name, settings, created_at FROM tenants "
                      "WHERE id = ?1 AND deleted_at IS NULL",
                      id, "id");
  }

  absl::StatusOr<Tenant> GetTenantByName(absl::string_view name) override {
    return ReadTenant(
        "SELECT id, name, settings, created_at FROM tenants "
        "WHERE name = ?1 AND deleted_at IS NULL", name,
        "name");
  }

  absl::Status CreateApiKey(const ApiKey& key) override {
    return ApiKeyWriteError(db_->Write([&](Connection& c) { return InsertApiKey(c, key); }), key);
  }

  absl::StatusOr<ApiKey> FindApiKeyByHash(absl::string_view key_hash) override {
    std::optional<ApiKey> key;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement st, c.Prepare(absl::StrCat("SELECT ", kApiKeyColumns,
                                               " FROM api_keys WHERE key_hash = ?1")));
      st.BindText(1, key_hash);
      ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row) key = ApiKeyFromRow(st);
      return absl::OkStatus();
    }));
    if (!key.has_value()) return absl::NotFoundError("no API key with this hash");
    return *std::move(key);
  }

  absl::StatusOr<std::vector<ApiKey>> ListApiKeys(absl::string_view tenant_id) override {
    std::vector<ApiKey> keys;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare(absl::StrCat("SELECT ", kApiKeyColumns,
                                 " FROM api_keys WHERE tenant_id = ?1 "
                                 "ORDER BY created_at DESC, id DESC")));
      st.BindText(1, tenant_id);
      while (true) {
        ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) return absl::OkStatus();
        keys.push_back(ApiKeyFromRow(st));
      }
    }));
    return keys;
  }

  absl::Status RevokeApiKey(absl::string_view tenant_id, absl::string_view key_id,
                            absl::Time at) override {
    return db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?3) "
                    "WHERE id = ?1 AND tenant_id = ?2"));
      st.BindText(1, key_id);
      st.BindText(2, tenant_id);
      st.BindInt64(3, Micros(at));
      ALERTHUB_RETURN_IF_ERROR(st.Run());
      if (st.Changes() == 0) {
        return absl::NotFoundError(absl::StrCat("no API key \"", key_id, "\""));
      }
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<SubmissionOutcome>> CommitSubmissions(
      absl::Span<const SubmissionWrite> submissions) override {
    if (submissions.empty()) return std::vector<SubmissionOutcome>();
    // Documents the caller did not render are rendered here, before taking
    // the writer.
    std::vector<PreparedRow> rows;
    rows.reserve(submissions.size());
    std::vector<std::string> rendered;
    rendered.reserve(2 * submissions.size());
    for (size_t i = 0; i < submissions.size(); ++i) {
      const SubmissionWrite& w = submissions[i];
      if (w.notification.id.empty() || w.notification.tenant_id.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "submissions[", i, "]: notification id and tenant_id must be set"));
      }
      PreparedRow row{&w, w.notification_json, w.accepted_event_json};
      try {
        if (row.notification_doc.empty()) {
          rendered.push_back(NotificationToJson(w.notification).dump());
          row.notification_doc = rendered.back();
        }
        if (row.event_doc.empty()) {
          rendered.push_back(CloudEventToJson(w.accepted_event).dump());
          row.event_doc = rendered.back();
        }
      } catch (const nlohmann::json::exception& e) {
        // dump() throws on strings that are not valid UTF-8.
        return absl::InvalidArgumentError(
            absl::StrCat("submissions[", i, "]: cannot be stored as JSON: ", e.what()));
      }
      rows.push_back(row);
    }

    // One transaction for all of them (the pipeline's GroupCommitter merges
    // concurrent callers into one call).
    std::vector<SubmissionOutcome> outcomes;
    const int64_t now = Micros(db_->clock().Now());
    ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(Statement ins_n, c.Prepare(kInsertNotificationSql));
      ALERTHUB_ASSIGN_OR_RETURN(Statement sel, c.Prepare(kSelectByDedupSql));
      ALERTHUB_ASSIGN_OR_RETURN(Statement ins_e, c.Prepare(kInsertEventSql));
      ALERTHUB_ASSIGN_OR_RETURN(Statement ins_o, c.Prepare(kInsertOutboxSql));
      SubmissionStatements st{std::move(ins_n), std::move(sel), std::move(ins_e),
                              std::move(ins_o)};
      return WriteRows(st, rows, now, &outcomes);
    }));
    return outcomes;
  }

  absl::StatusOr<Notification> GetNotification(absl::string_view tenant_id,
                                               absl::string_view id) override {
    std::optional<Notification> n;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("SELECT status, updated_at, doc FROM notifications "
                                  "WHERE id = ?1 AND tenant_id = ?2"));
      st.BindText(1, id);
      st.BindText(2, tenant_id);
      ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return absl::OkStatus();
      ALERTHUB_ASSIGN_OR_RETURN(n, NotificationFromRow(st, 0));
      return absl::OkStatus();
    }));
    if (!n.has_value()) {
      return absl::NotFoundError(absl::StrCat("no notification \"", id, "\""));
    }
    return *std::move(n);
  }

  absl::StatusOr<NotificationPage> ListNotifications(
      absl::string_view tenant_id, const NotificationFilter& filter) override {
    if (filter.limit < 1 || filter.limit > 500) {
      return absl::InvalidArgumentError(
          absl::StrCat("limit must be 1-500, got ", filter.limit));
    }
    const std::string sql = sqlite_internal::ListNotificationsSql(filter);
    NotificationPage page;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      page.items.clear();
      ALERTHUB_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
      st.BindText(1, tenant_id);
      if (filter.status.has_value()) st.BindInt64(2, static_cast<int64_t>(*filter.status));
      if (!filter.type.empty()) st.BindText(3, filter.type);
      if (filter.since.has_value()) st.BindInt64(4, Micros(*filter.since));
      if (!filter.before_id.empty()) st.BindText(5, filter.before_id);
      st.BindInt64(6, filter.limit + 1);  // one more tells whether more exist
      while (true) {
        ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) return absl::OkStatus();
        if (static_cast<int>(page.items.size()) == filter.limit) {
          page.has_more = true;
          return absl::OkStatus();
        }
        ALERTHUB_ASSIGN_OR_RETURN(Notification n, NotificationFromRow(st, 0));
        page.items.push_back(std::move(n));
      }
    }));
    return page;
  }

  absl::StatusOr<std::vector<CloudEvent>> ListEvents(
      absl::string_view tenant_id, absl::string_view notification_id) override {
    std::vector<CloudEvent> events;
    bool found = false;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      {
        ALERTHUB_ASSIGN_OR_RETURN(
            Statement st, c.Prepare("SELECT 1 FROM notifications "
                                    "WHERE id = ?1 AND tenant_id = ?2"));
        st.BindText(1, notification_id);
        st.BindText(2, tenant_id);
        ALERTHUB_ASSIGN_OR_RETURN(found, st.Step());
      }
      if (!found) return absl::OkStatus();
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("SELECT doc FROM events WHERE notification_id = ?1 "
                                  "ORDER BY seq"));
      st.BindText(1, notification_id);
      while (true) {
        ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) return absl::OkStatus();
        ALERTHUB_ASSIGN_OR_RETURN(CloudEvent e, EventFromDoc(st.ColumnText(0)));
        events.push_back(std::move(e));
      }
    }));
    if (!found) {
      return absl::NotFoundError(
          absl::StrCat("no notification \"", notification_id, "\""));
    }
    return events;
  }

  absl::StatusOr<std::vector<OutboxRecord>> ClaimOutbox(int max,
                                                        absl::Duration lease) override {
    if (max <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("max must be positive, got ", max));
    }
    if (lease <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("lease must be positive");
    }
    const absl::Time now = db_->clock().Now();
    std::vector<OutboxRecord> records;
    ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
      records.clear();
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("UPDATE outbox SET claimed_until = ?2 WHERE seq IN ("
                    "SELECT seq FROM outbox WHERE sent_at IS NULL "
                    "AND (claimed_until IS NULL OR claimed_until <= ?1) "
                    "ORDER BY seq LIMIT ?3) "
                    "RETURNING seq, topic, key, payload"));
      st.BindInt64(1, Micros(now));
      st.BindInt64(2, Micros(now + lease));
      st.BindInt64(3, max);
      while (true) {
        ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) return absl::OkStatus();
        OutboxRecord r;
        r.seq = st.ColumnInt64(0);
        r.topic = std::string(st.ColumnText(1));
        r.key = std::string(st.ColumnText(2));
        r.payload = std::string(st.ColumnBlob(3));
        records.push_back(std::move(r));
      }
      // A lost claim only lets a message be claimed again: no fsync needed.
    }, sqlite_internal::Database::Durability::kRelaxed));
    // RETURNING comes in no particular order.
    std::sort(records.begin(), records.end(),
              [](const OutboxRecord& a, const OutboxRecord& b) { return a.seq < b.seq; });
    return records;
  }

  absl::Status MarkOutboxSent(absl::Span<const int64_t> seqs) override {
    if (seqs.empty()) return absl::OkStatus();
    const int64_t now = Micros(db_->clock().Now());
    return db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("UPDATE outbox SET sent_at = ?2, claimed_until = NULL "
                                  "WHERE seq = ?1 AND sent_at IS NULL"));
      for (int64_t seq : seqs) {
        st.Reset();
        st.BindInt64(1, seq);
        st.BindInt64(2, now);
        ALERTHUB_RETURN_IF_ERROR(st.Run());
      }
      // A lost mark republishes the message (at-least-once): no fsync needed.
      return absl::OkStatus();
    }, sqlite_internal::Database::Durability::kRelaxed);
  }

  absl::StatusOr<int64_t> CountOutboxPending() override {
    int64_t count = 0;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("SELECT count(*) FROM outbox WHERE sent_at IS NULL"));
      ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row) count = st.ColumnInt64(0);
      return absl::OkStatus();
    }));
    return count;
  }

  absl::Status CreateIntegration(const Integration& integration) override {
    return tables_.CreateIntegration(integration);
  }
  absl::StatusOr<Integration> GetIntegration(absl::string_view tenant_id, absl::string_view id) override {
    return tables_.GetIntegration(tenant_id, id);
  }
  absl::StatusOr<Page<Integration>> ListIntegrations(absl::string_view tenant_id, const IntegrationFilter& filter, const PageRequest& page) override {
    return tables_.ListIntegrations(tenant_id, filter, page);
  }
  absl::Status UpdateIntegration(const Integration& integration) override {
    return tables_.UpdateIntegration(integration);
  }
  absl::Status DeleteIntegration(absl::string_view tenant_id, absl::string_view id) override {
    return tables_.DeleteIntegration(tenant_id, id);
  }
  absl::Status CreateTemplate(const Template& tmpl) override {
    return tables_.CreateTemplate(tmpl);
  }
  absl::StatusOr<Template> GetTemplate(absl::string_view tenant_id, absl::string_view id) override {
    return tables_.GetTemplate(tenant_id, id);
  }
  absl::StatusOr<Template> FindTemplate(absl::string_view tenant_id, absl::string_view name, Channel channel) override {
    return tables_.FindTemplate(tenant_id, name, channel);
  }
  absl::StatusOr<Page<Template>> ListTemplates(absl::string_view tenant_id, const PageRequest& page) override {
    return tables_.ListTemplates(tenant_id, page);
  }
  absl::Status UpdateTemplate(const Template& tmpl) override {
    return tables_.UpdateTemplate(tmpl);
  }
  absl::Status DeleteTemplate(absl::string_view tenant_id, absl::string_view id) override {
    return tables_.DeleteTemplate(tenant_id, id);
  }
  absl::StatusOr<std::vector<absl::StatusOr<RoutingOutcome>>> RecordRoutings(
      absl::Span<const RoutingWrite> writes) override {
    return tables_.RecordRoutings(writes);
  }
  absl::StatusOr<std::vector<absl::StatusOr<DeliveryClaim>>> ClaimDeliveries(
      absl::Span<const DeliveryRef> refs, absl::Duration lease) override {
    return tables_.ClaimDeliveries(refs, lease);
  }
  absl::StatusOr<std::vector<absl::StatusOr<AttemptOutcomeRecord>>> RecordAttempts(
      absl::Span<const AttemptWrite> writes) override {
    return tables_.RecordAttempts(writes);
  }
  absl::StatusOr<AttemptOutcomeRecord> ReplayDelivery(absl::string_view tenant_id, absl::string_view id, const CloudEvent& event) override {
    return tables_.ReplayDelivery(tenant_id, id, event);
  }
  absl::StatusOr<Delivery> GetDelivery(absl::string_view tenant_id, absl::string_view id) override {
    return tables_.GetDelivery(tenant_id, id);
  }
  absl::StatusOr<Page<Delivery>> ListUnfinishedDeliveries(const PageRequest& page) override {
    return tables_.ListUnfinishedDeliveries(page);
  }
  absl::StatusOr<Page<Delivery>> ListDeliveries(absl::string_view tenant_id, const DeliveryFilter& filter, const PageRequest& page) override {
    return tables_.ListDeliveries(tenant_id, filter, page);
  }

  // --- Tenant administration --- (internal/tenant_tables.cc)
  absl::StatusOr<Page<Tenant>> ListTenants(const PageRequest& page) override {
    return tenants_.ListTenants(page);
  }
  absl::Status UpdateTenant(const Tenant& tenant) override { return tenants_.UpdateTenant(tenant); }
  absl::Status DeleteTenant(absl::string_view id, absl::Time at) override {
    return tenants_.DeleteTenant(id, at);
  }

  // --- Audit --- (internal/audit_table.cc; Database::Write inserts scope records)
  absl::Status AppendAuditRecord(const AuditRecord& record) override {
    return audit_.AppendAuditRecord(record);
  }
  absl::StatusOr<Page<AuditRecord>> ListAuditRecords(absl::string_view tenant_id,
                                                     const AuditFilter& filter,
                                                     const PageRequest& page) override {
    return audit_.ListAuditRecords(tenant_id, filter, page);
  }

  // --- Privacy (GDPR) --- (internal/privacy_tables.cc)
  absl::StatusOr<UserDataExport> ExportUserData(absl::string_view tenant_id,
                                                absl::string_view user_id) override {
    return privacy_.ExportUserData(tenant_id, user_id);
  }
  absl::StatusOr<UserErasure> EraseUser(absl::string_view tenant_id, absl::string_view user_id,
                                        absl::Time at) override {
    return privacy_.EraseUser(tenant_id, user_id, at);
  }

  // --- Digests ---
  absl::StatusOr<DigestClaim> ClaimDigest(absl::string_view tenant_id,
                                          absl::string_view delivery_id,
                                          absl::Duration lease) override {
    return tables_.ClaimDigest(tenant_id, delivery_id, lease);
  }
  absl::StatusOr<absl::Time> PeekDigestFlush(const DigestGroup& group, const DigestWindow& window,
                                             absl::Time earliest) override {
    return tables_.PeekDigestFlush(group, window, earliest);
  }

  absl::StatusOr<CancelOutcome> CancelNotification(absl::string_view tenant_id,
                                                   absl::string_view id,
                                                   const CloudEvent& event) override {
    CancelOutcome out;
    ALERTHUB_ASSIGN_OR_RETURN(out.deliveries_cancelled,
                              tables_.CancelNotification(tenant_id, id, event));
    ALERTHUB_ASSIGN_OR_RETURN(out.notification, GetNotification(tenant_id, id));
    return out;
  }
  absl::Status CreateRule(const Rule& rule) override { return rules_.CreateRule(rule); }
  absl::StatusOr<Rule> GetRule(absl::string_view tenant_id, absl::string_view id) override {
    return rules_.GetRule(tenant_id, id);
  }
  absl::StatusOr<std::vector<Rule>> ListRules(absl::string_view tenant_id) override {
    return rules_.ListRules(tenant_id);
  }
  absl::Status UpdateRule(const Rule& rule) override { return rules_.UpdateRule(rule); }
  absl::Status DeleteRule(absl::string_view tenant_id, absl::string_view id) override {
    return rules_.DeleteRule(tenant_id, id);
  }
  absl::Status CreateUser(const User& user) override { return rules_.CreateUser(user); }
  absl::StatusOr<User> GetUser(absl::string_view tenant_id, absl::string_view id) override {
    return rules_.GetUser(tenant_id, id);
  }
  absl::StatusOr<Page<User>> ListUsers(absl::string_view tenant_id,
                                       const PageRequest& page) override {
    return rules_.ListUsers(tenant_id, page);
  }
  absl::Status UpdateUser(const User& user) override { return rules_.UpdateUser(user); }
  absl::Status DeleteUser(absl::string_view tenant_id, absl::string_view id) override {
    return rules_.DeleteUser(tenant_id, id);
  }
  absl::StatusOr<Preferences> GetPreferences(absl::string_view tenant_id,
                                             absl::string_view user_id) override {
    return rules_.GetPreferences(tenant_id, user_id);
  }
  absl::Status SetPreferences(absl::string_view tenant_id, absl::string_view user_id,
                              const Preferences& preferences) override {
    return rules_.SetPreferences(tenant_id, user_id, preferences);
  }
  absl::StatusOr<std::vector<Recipient>> GetRecipients(
      absl::string_view tenant_id, absl::Span<const std::string> user_ids) override {
    return rules_.GetRecipients(tenant_id, user_ids);
  }

  // --- Auth sessions ---
  absl::Status SetUserPassword(absl::string_view tenant_id, absl::string_view user_id,
                               absl::string_view password_hash, absl::Time at) override {
    return auth_.SetUserPassword(tenant_id, user_id, password_hash, at);
  }
  absl::StatusOr<LoginRecord> FindLoginUser(absl::string_view tenant_id,
                                            absl::string_view email) override {
    return auth_.FindLoginUser(tenant_id, email);
  }
  absl::Status CreateRefreshToken(const RefreshToken& token) override {
    return auth_.CreateRefreshToken(token);
  }
  absl::StatusOr<RefreshRotation> RotateRefreshToken(absl::string_view presented_hash,
                                                     absl::string_view successor_hash,
                                                     absl::Time successor_expires_at,
                                                     absl::Time now) override {
    return auth_.RotateRefreshToken(presented_hash, successor_hash, successor_expires_at, now);
  }
  absl::StatusOr<RefreshToken> RevokeRefreshFamily(absl::string_view token_hash,
                                                   absl::Time at) override {
    return auth_.RevokeRefreshFamily(token_hash, at);
  }
  absl::StatusOr<RefreshToken> FindRefreshToken(absl::string_view token_hash) override {
    return auth_.FindRefreshToken(token_hash);
  }

  // --- Analytics --- (internal/analytics_queries.cc)
  absl::StatusOr<std::vector<NotificationCountRow>> CountNotifications(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      absl::string_view type) override {
    return sqlite_internal::Analytics(*db_).CountNotifications(tenant_id, window, type);
  }
  absl::StatusOr<std::vector<DeliveryCountRow>> CountDeliveries(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      std::optional<Channel> channel) override {
    return sqlite_internal::Analytics(*db_).CountDeliveries(tenant_id, window, channel);
  }
  absl::StatusOr<std::vector<LatencyHistogramRow>> DeliveryLatencyHistogram(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      std::optional<Channel> channel) override {
    return sqlite_internal::Analytics(*db_).DeliveryLatencyHistogram(tenant_id, window, channel);
  }

  absl::StatusOr<std::unique_ptr<TaskQueue>> OpenTaskQueue() override {
    return sqlite_internal::NewSqliteTaskQueue(db_);
  }

  absl::Status Ping() override {
    return db_->Read([](Connection& c) { return c.Run("SELECT 1"); });
  }

  absl::StatusOr<int64_t> PurgeSentOutbox(absl::Time older_than) override {
    int64_t deleted = 0;
    ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?1 "
                    "AND seq < (SELECT max(seq) FROM outbox)"));
      st.BindInt64(1, Micros(older_than));
      ALERTHUB_RETURN_IF_ERROR(st.Run());
      deleted = st.Changes();
      return absl::OkStatus();
    }));
    return deleted;
  }

  int SchemaVersion() const override { return db_->schema_version(); }

 private:
  absl::StatusOr<Tenant> ReadTenant(absl::string_view sql, absl::string_view key,
                                    absl::string_view key_name) {
    std::optional<Tenant> tenant;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
      st.BindText(1, key);
      ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return absl::OkStatus();
      Tenant t;
      t.id = std::string(st.ColumnText(0));
      t.name = std::string(st.ColumnText(1));
      ALERTHUB_ASSIGN_OR_RETURN(nlohmann::json j,
                                ParseDoc(st.ColumnText(2), "tenants.settings"));
      absl::StatusOr<TenantSettings> settings = absl::InternalError("unset");
      try {
        settings = TenantSettingsFromJson(j);
      } catch (const nlohmann::json::exception& e) {
        settings = absl::InvalidArgumentError(e.what());
      }
      if (!settings.ok()) {
        return absl::InternalError(absl::StrCat("sqlite: corrupt row in tenants: ",
                                                settings.status().message()));
      }
      t.settings = *std::move(settings);
      t.created_at = FromMicros(st.ColumnInt64(3));
      tenant = std::move(t);
      return absl::OkStatus();
    }));
    if (!tenant.has_value()) {
      return absl::NotFoundError(absl::StrCat("no tenant with ", key_name, " \"", key, "\""));
    }
    return *std::move(tenant);
  }

  // The tenant, and `first_key` when not null, in one transaction.
  absl::Status CreateTenantAndKey(const Tenant& tenant, const ApiKey* first_key) {
    std::string settings;
    try {
      settings = TenantSettingsToJson(tenant.settings).dump();
    } catch (const nlohmann::json::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("tenant settings cannot be stored as JSON: ", e.what()));
    }
    absl::Status s = db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("INSERT INTO tenants (id, name, settings, created_at) "
                                  "VALUES (?1, ?2, ?3, ?4)"));
      st.BindText(1, tenant.id);
      st.BindText(2, tenant.name);
      st.BindText(3, settings);
      st.BindInt64(4, Micros(tenant.created_at));
      ALERTHUB_RETURN_IF_ERROR(st.Run());
      return first_key == nullptr ? absl::OkStatus() : InsertApiKey(c, *first_key);
    });
    if (first_key != nullptr && absl::StrContains(s.message(), "api_keys.")) {
      return ApiKeyWriteError(s, *first_key);
    }
    if (s.code() == absl::StatusCode::kAlreadyExists) {
      if (absl::StrContains(s.message(), "tenants.name")) {
        return absl::AlreadyExistsError(
            absl::StrCat("a tenant named \"", tenant.name, "\" already exists"));
      }
      return absl::AlreadyExistsError(
          absl::StrCat("a tenant with id \"", tenant.id, "\" already exists"));
    }
    return s;
  }

  static absl::Status InsertApiKey(Connection& c, const ApiKey& key) {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, role, "
                  "created_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    st.BindText(1, key.id);
    st.BindText(2, key.tenant_id);
    st.BindText(3, key.name);
    st.BindText(4, key.prefix);
    st.BindText(5, key.key_hash);
    st.BindInt64(6, static_cast<int64_t>(key.role));
    st.BindInt64(7, Micros(key.created_at));
    if (key.revoked_at.has_value()) {
      st.BindInt64(8, Micros(*key.revoked_at));
    } else {
      st.BindNull(8);
    }
    return st.Run();
  }

  // The Store's errors for a failed insert of `key`.
  static absl::Status ApiKeyWriteError(const absl::Status& s, const ApiKey& key) {
    if (s.code() == absl::StatusCode::kFailedPrecondition) {
      return absl::NotFoundError(absl::StrCat("no tenant \"", key.tenant_id, "\""));
    }
    if (s.code() == absl::StatusCode::kAlreadyExists) {
      if (absl::StrContains(s.message(), "api_keys.key_hash")) {
        return absl::AlreadyExistsError("an API key with this hash already exists");
      }
      return absl::AlreadyExistsError(
          absl::StrCat("an API key with id \"", key.id, "\" already exists"));
    }
    return s;
  }

  const std::shared_ptr<Database> db_;
  sqlite_internal::DeliveryTables tables_;
  sqlite_internal::RuleUserTables rules_;
  sqlite_internal::AuthTables auth_;  // --- Auth sessions ---
  sqlite_internal::TenantTables tenants_;  // --- Tenant administration ---
  sqlite_internal::AuditTable audit_;      // --- Audit ---
  sqlite_internal::PrivacyTables privacy_;  // --- Privacy (GDPR) ---
};

}  // namespace

absl::StatusOr<SqliteStoreOptions> SqliteStoreOptionsFromUrl(absl::string_view url) {
  constexpr absl::string_view kScheme = "sqlite://";
  if (!absl::StartsWithIgnoreCase(url, kScheme)) {
    return absl::InvalidArgumentError(
        absl::StrCat("store URL \"", url, "\" is not a sqlite:// URL; ", kUrlForms));
  }
  absl::string_view rest = url.substr(kScheme.size());
  if (rest.find('#') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("store URL \"", url, "\" must not have a #fragment"));
  }
  absl::string_view query;
  if (size_t q = rest.find('?'); q != absl::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("store URL \"", url, "\" has no path; ", kUrlForms));
  }
  SqliteStoreOptions options;
  ALERTHUB_ASSIGN_OR_RETURN(options.path, PercentDecode(rest, url));
  if (options.path.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("store URL \"", url, "\": the path contains a NUL byte"));
  }
  if (options.path.back() == '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "store URL \"", url, "\" names a directory; name the database file in it"));
  }
  for (absl::string_view param : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(param, absl::MaxSplits('=', 1));
    const absl::string_view key = kv.first;
    const std::string value = absl::AsciiStrToLower(kv.second);
    if (key == "synchronous") {
      if (value == "full") {
        options.synchronous_full = true;
      } else if (value == "normal") {
        options.synchronous_full = false;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "store URL \"", url, "\": synchronous must be full or normal, got \"",
            kv.second, "\""));
      }
    } else if (key == "read_connections") {
      int n = 0;
      if (!absl::SimpleAtoi(value, &n) || n < 0 || n > 64) {
        return absl::InvalidArgumentError(absl::StrCat(
            "store URL \"", url, "\": read_connections must be an integer 0-64, got \"",
            kv.second, "\""));
      }
      options.read_connections = n;
    } else if (key == "busy_timeout_ms") {
      int64_t ms = 0;
      if (!absl::SimpleAtoi(value, &ms) || ms < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "store URL \"", url,
            "\": busy_timeout_ms must be a non-negative integer, got \"", kv.second, "\""));
      }
      options.busy_timeout = absl::Milliseconds(ms);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "store URL \"", url, "\": unknown parameter \"", key,
          "\" (known: synchronous, read_connections, busy_timeout_ms)"));
    }
  }
  return options;
}

absl::StatusOr<std::unique_ptr<SqliteStore>> OpenSqliteStore(
    const SqliteStoreOptions& options) {
  sqlite_internal::DatabaseOptions db_options;
  db_options.path = options.path;
  db_options.synchronous_full = options.synchronous_full;
  db_options.read_connections = options.read_connections;
  db_options.busy_timeout = options.busy_timeout;
  db_options.clock = options.clock != nullptr ? options.clock : Clock::Real();
  ALERTHUB_ASSIGN_OR_RETURN(std::shared_ptr<Database> db, Database::Open(db_options));
  return std::make_unique<SqliteStoreImpl>(std::move(db));
}

}  // namespace alerthub
