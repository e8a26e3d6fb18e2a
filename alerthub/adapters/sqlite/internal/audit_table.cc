#include "alerthub/adapters/sqlite/internal/audit_table.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "alerthub/adapters/sqlite/internal/connection.h"
#include "alerthub/adapters/sqlite/internal/database.h"
#include "alerthub/adapters/sqlite/internal/table_util.h"
#include "alerthub/common/status.h"

namespace alerthub::sqlite_internal {

// Append-only. Ids are UUIDv7 from the record's time, so id order is time
// order: pages read newest first by id.
const char kAuditLogMigrationSql[] = R"sql(
CREATE TABLE audit_log (
  id         TEXT PRIMARY KEY,
  tenant_id  TEXT NOT NULL,
  at         INTEGER NOT NULL,  -- the record's time, micros
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  target     TEXT NOT NULL,
  doc        TEXT NOT NULL      -- AuditRecordToJson()
) WITHOUT ROWID;
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id);
)sql";

absl::Status InsertAuditRecord(Connection& conn, const AuditRecord& record) {
  ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(AuditRecordToJson(record), "audit record"));
  ALERTHUB_ASSIGN_OR_RETURN(
      Statement st,
      conn.Prepare("INSERT INTO audit_log (id, tenant_id, at, actor, action, target, doc) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  st.BindText(1, record.id);
  st.BindText(2, record.tenant_id);
  st.BindInt64(3, Micros(record.time));
  st.BindText(4, record.actor);
  st.BindText(5, record.action);
  st.BindText(6, record.target);
  st.BindText(7, doc);
  return st.Run();
}

absl::Status AuditTable::AppendAuditRecord(const AuditRecord& record) {
  // (AuditScope::Finish marks its record written before calling this, so
  // Database::Write does not insert it a second time.)
  return db_->Write([&](Connection& c) { return InsertAuditRecord(c, record); });
}

absl::StatusOr<Page<AuditRecord>> AuditTable::ListAuditRecords(absl::string_view tenant_id,
                                                               const AuditFilter& filter,
                                                               const PageRequest& page) {
  // Empty filter fields match everything; an action ending in "." is a
  // prefix.
  const bool action_prefix = !filter.action.empty() && filter.action.back() == '.';
  static const std::string sql =
      "SELECT doc FROM audit_log WHERE tenant_id = ?1 "
      "AND (?2 = '' OR id < ?2) "
      "AND (?3 = '' OR actor = ?3) "
      "AND (?4 = '' OR (?5 = 1 AND substr(action, 1, length(?4)) = ?4) "
      "     OR (?5 = 0 AND action = ?4)) "
      "AND (?6 = '' OR target = ?6) "
      "AND (?7 IS NULL OR at >= ?7) AND (?8 IS NULL OR at < ?8) "
      "ORDER BY id DESC LIMIT ?9";
  return ReadPage<AuditRecord>(
      *db_, sql, page,
      [&](Statement& st) {
        st.BindText(1, tenant_id);
        st.BindText(2, page.cursor);
        st.BindText(3, filter.actor);
        st.BindText(4, filter.action);
        st.BindInt64(5, action_prefix ? 1 : 0);
        st.BindText(6, filter.target);
        // Statements are cached with their bindings: bind every parameter.
        if (filter.since.has_value()) {
          st.BindInt64(7, Micros(*filter.since));
        } else {
          st.BindNull(7);
        }
        if (filter.until.has_value()) {
          st.BindInt64(8, Micros(*filter.until));
        } else {
          st.BindNull(8);
        }
        st.BindInt64(9, page.limit + 1);
      },
      [](const Statement& st) {
        return DecodeJsonColumn(st.ColumnText(0), "audit_log.doc",
                                [](const nlohmann::json& j) { return AuditRecordFromJson(j); });
      });
}

}  // namespace alerthub::sqlite_internal
