// The distributed Store (`postgres://`, `postgresql://`) on PostgreSQL
// through libpq: the same tables and semantics as the SQLite store, shared
// by every AlertHub process that names the same database.
//
//   ALERTHUB_ASSIGN_OR_RETURN(
//       PostgresStoreOptions options,
//       PostgresStoreOptionsFromUrl("postgres://alerthub@db.internal/alerthub?pool_size=8"));
//   options.clock = clock;
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenPostgresStore(options));
//
// URL: a libpq connection URI,
//   postgres[ql]://[user[:password]@][host][:port][/dbname][?param=value&...]
// Every libpq parameter is accepted and passed on (sslmode, application_name,
// options=-csearch_path%3Dmyschema, password, ...); prefer a ~/.pgpass file
// or PGPASSWORD to a password in the URL. AlertHub's own parameters, removed
// before libpq sees the URI:
//   pool_size=N            connections in the pool, 1-64 (default 4)
//   acquire_timeout_ms=N   how long a call waits for a free pooled
//                          connection before kUnavailable (default 5000)
// and libpq's connect_timeout (seconds) defaults to 5 here instead of
// "forever". Tables go to the first schema of the search_path. Server
// settings ride in `options`: options=-c%20lock_timeout%3D5000 bounds how
// long a call waits for a row lock (then kUnavailable, as for
// statement_timeout).
//
// Semantics: see alerthub/ports/store.h; every call that returns OK has
// committed durably: sessions whose synchronous_commit is off (a server or
// role default) turn it back on — except the outbox relay's calls
// (TakeOutbox and its batches, ClaimOutbox, MarkOutboxSent), which commit
// asynchronously: when a server crash loses one, its messages
// are only published again (at-least-once), and the next durable commit of
// any call flushes it. CommitSubmissions writes a whole
// call with one multi-row INSERT per table in one transaction; dedup is the
// unique index on (tenant_id, dedup_key) with ON CONFLICT DO NOTHING, so
// concurrent submissions of one key from several routers store one
// notification. TakeOutbox locks its batch's rows with FOR UPDATE SKIP LOCKED
// in a transaction held on a pool of four connections of its own until the
// batch is finished (the relay's rounds in flight; a stalled batch's
// session ends after its lease through idle_in_transaction_session_timeout);
// ClaimOutbox leases rows through a column instead, and each skips the
// other's rows;
// ClaimDeliveries and RecordAttempts lock the rows they change (several
// worker processes are safe). The notification's aggregate status is
// recomputed under a lock on its row, which every transaction changing its
// deliveries takes first; a transaction PostgreSQL still aborts (deadlock,
// serialization failure) runs again, up to 3 times, before kAborted.
//
// Opening connects once (kUnavailable when the server cannot be reached)
// and applies pending schema migrations under an advisory lock
// (internal/schema.h), so several daemons may start at once.
//
// Failure: a call returns kUnavailable when the server cannot be reached,
// when a connection breaks mid-call (a write that broke at COMMIT may or
// may not have committed) or when every pooled connection stays busy for
// acquire_timeout. Broken connections are replaced; a connection found dead
// before a call sent anything (after a server restart) is replaced and the
// call goes on, so callers see no error for it. Thread-safe.
#ifndef ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_H_
#define ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/store.h"

namespace alerthub {

struct PostgresStoreOptions {
  // The libpq connection URI without AlertHub's parameters. It may hold a
  // password: never log it.
  std::string conninfo;
  // conninfo with the password masked, for messages (derived from conninfo
  // when empty).
  std::string redacted_url;
  // Connections in the pool (1-64); each call holds one for its duration.
  int pool_size = 4;
  // How long a call waits for a free connection before kUnavailable.
  absl::Duration acquire_timeout = absl::Seconds(5);
  // Time for timestamps and leases; every process sharing the database must
  // run a synchronized clock. nullptr: Clock::Real(). Must outlive the store
  // and every task queue it opened.
  Clock* clock = nullptr;
};

// Parses a postgres:// or postgresql:// URL (see above). kInvalidArgument,
// naming the problem (with the password masked), for anything libpq would
// not accept or an AlertHub parameter out of range.
absl::StatusOr<PostgresStoreOptions> PostgresStoreOptionsFromUrl(absl::string_view url);

// A Store with PostgreSQL specifics. OpenTaskQueue() never fails with
// kUnimplemented here: it returns the `sql://` queue in the same database
// (table `tasks`; leases with FOR UPDATE SKIP LOCKED), which keeps the
// database's connection pool alive and may outlive the store.
class PostgresStore : public Store {
 public:
  // The schema version of the database (the number of migrations applied).
  virtual int SchemaVersion() const = 0;
};

// Connects and migrates (see above). kInvalidArgument for bad options;
// kUnavailable when the server cannot be reached or refuses the login;
// kFailedPrecondition when the schema is newer than this binary's.
absl::StatusOr<std::unique_ptr<PostgresStore>> OpenPostgresStore(
    const PostgresStoreOptions& options);

}  // namespace alerthub

#endif  // ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_H_
