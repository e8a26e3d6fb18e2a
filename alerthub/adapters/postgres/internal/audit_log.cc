#include "alerthub/adapters/postgres/internal/audit_log.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "alerthub/adapters/postgres/internal/connection.h"
#include "alerthub/adapters/postgres/internal/database.h"
#include "alerthub/common/status.h"

namespace alerthub::postgres_internal {

// Append-only. Ids are UUIDv7 from the record's time, so id order is time
// order: pages read newest first by id.
const char kAuditLogMigrationSql[] = R"sql(
CREATE TABLE audit_log (
  id         text PRIMARY KEY,
  tenant_id  text NOT NULL,
  at         bigint NOT NULL,  -- the record's time, micros
  actor      text NOT NULL,
  action     text NOT NULL,
  target     text NOT NULL,
  doc        jsonb NOT NULL    -- AuditRecordToJson()
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id);
)sql";

absl::Status InsertAuditRecord(Connection& conn, const AuditRecord& record) {
  std::string doc;
  try {
    doc = AuditRecordToJson(record).dump();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("the audit record cannot be stored as JSON: ", e.what()));
  }
  return conn
      .Query("INSERT INTO audit_log (id, tenant_id, at, actor, action, target, doc) "
             "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
             Params()
                 .Text(record.id)
                 .Text(record.tenant_id)
                 .Int(absl::ToUnixMicros(record.time))
                 .Text(record.actor)
                 .Text(record.action)
                 .Text(record.target)
                 .Text(doc))
      .status();
}

absl::Status AuditLog::AppendAuditRecord(const AuditRecord& record) {
  // (AuditScope::Finish marks its record written before calling this, so
  // Database::Write does not insert it a second time.)
  return db_->Write([&](Connection& c) { return InsertAuditRecord(c, record); });
}

absl::StatusOr<Page<AuditRecord>> AuditLog::ListAuditRecords(absl::string_view tenant_id,
                                                             const AuditFilter& filter,
                                                             const PageRequest& page) {
  if (page.limit < 1 || page.limit > 500) {
    return absl::InvalidArgumentError(absl::StrCat("limit must be 1-500, got ", page.limit));
  }
  // Empty filter fields match everything; an action ending in "." is a
  // prefix.
  const bool action_prefix = !filter.action.empty() && filter.action.back() == '.';
  Page<AuditRecord> out;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Result r,
        c.Query("SELECT doc FROM audit_log WHERE tenant_id = $1 "
                "AND ($2 = '' OR id < $2) "
                "AND ($3 = '' OR actor = $3) "
                "AND ($4 = '' OR ($5 AND left(action, length($4)) = $4) "
                "     OR (NOT $5 AND action = $4)) "
                "AND ($6 = '' OR target = $6) "
                "AND ($7::bigint IS NULL OR at >= $7) AND ($8::bigint IS NULL OR at < $8) "
                "ORDER BY id DESC LIMIT $9",
                Params()
                    .Text(tenant_id)
                    .Text(page.cursor)
                    .Text(filter.actor)
                    .Text(filter.action)
                    .Bool(action_prefix)
                    .Text(filter.target)
                    .OptTime(filter.since)
                    .OptTime(filter.until)
                    .Int(page.limit + 1)));
    for (int row = 0; row < r.rows(); ++row) {
      if (row == page.limit) {
        out.has_more = true;
        break;
      }
      nlohmann::json j = nlohmann::json::parse(r.Text(row, 0), nullptr,
                                               /*allow_exceptions=*/false);
      absl::StatusOr<AuditRecord> record =
          j.is_discarded() ? absl::DataLossError("not JSON") : AuditRecordFromJson(j);
      if (!record.ok()) {
        return absl::InternalError(
            absl::StrCat("postgres: corrupt row in audit_log: ", record.status().message()));
      }
      out.items.push_back(*std::move(record));
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace alerthub::postgres_internal
