// Internal to the SQLite adapter: a VFS that can gather a transaction's WAL
// writes into one write(2) at commit.
//
// SQLite appends each WAL frame with two pwrite(2) calls (frame header, then
// the page), so a group commit that dirties 30 pages makes 60 system calls
// before its fsync; on virtualized machines, where a system call costs tens
// of microseconds, that is a large share of the commit. While buffering is
// switched on for a connection, the VFS keeps the contiguous WAL writes of
// that connection in memory and writes them, 124 KiB per call, as soon as
// the transaction's commit frame (the one holding the new database size) is
// complete — before SQLite syncs the WAL (synchronous=FULL) and before it
// publishes the commit to readers in the wal-index, with or without a sync —
// and whenever SQLite does anything else with the WAL file first: a read, a
// sync, a truncate, a size query, a non-contiguous write. So a failed write
// fails the commit as it would without buffering, and nothing changes for
// durability or for other connections.
//
//   ALERTHUB_RETURN_IF_ERROR(SetWalWriteBuffering(db, true));
//   ... any transactions ...
//   ALERTHUB_RETURN_IF_ERROR(SetWalWriteBuffering(db, false));  // writes anything left
//
// Connections opened with kBufferedWalVfs behave exactly like the default
// VFS while buffering is off.
#ifndef ALERTHUB_ADAPTERS_SQLITE_INTERNAL_WAL_WRITE_BUFFER_H_
#define ALERTHUB_ADAPTERS_SQLITE_INTERNAL_WAL_WRITE_BUFFER_H_

#include <sqlite3.h>

#include "absl/status/status.h"

namespace alerthub::sqlite_internal {

// Name of the VFS to pass to sqlite3_open_v2; valid after
// RegisterBufferedWalVfs() succeeded.
inline constexpr char kBufferedWalVfs[] = "alerthub-buffered-wal";

// Registers the VFS (once per process, wrapping the default VFS; not made the
// default). Thread-safe; later calls return the first call's outcome.
absl::Status RegisterBufferedWalVfs();

// Switches WAL write buffering on or off for `db`'s main database (opened
// with kBufferedWalVfs). Switching off writes what is buffered; an I/O error
// doing so is returned. Fails for a database without a file (":memory:").
absl::Status SetWalWriteBuffering(sqlite3* db, bool on);

}  // namespace alerthub::sqlite_internal

#endif  // ALERTHUB_ADAPTERS_SQLITE_INTERNAL_WAL_WRITE_BUFFER_H_
