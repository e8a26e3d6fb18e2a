#include "alerthub/adapters/sqlite/internal/wal_write_buffer.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include "absl/strings/str_cat.h"
#include "alerthub/adapters/sqlite/internal/connection.h"

namespace alerthub::sqlite_internal {
namespace {

// A file-control opcode of our own, sent to the main database file: the
// argument is an int*, non-zero to buffer its WAL's writes. SQLite passes
// opcodes it does not know to the VFS.
constexpr int kFcntlBufferWal = 0x41484231;  // "AHB1"

// Buffered bytes beyond this are written at once (a transaction larger than
// the page cache spills frames before its commit).
constexpr size_t kMaxBuffered = 4 << 20;

// Most bytes one xWrite of the unix VFS takes (it writes at most 128 KiB - 1
// per pwrite(2) and reports a short write as a full disk).
constexpr size_t kMaxWrite = 124 << 10;

sqlite3_vfs* g_base_vfs = nullptr;  // the wrapped default VFS
sqlite3_vfs g_vfs;                  // ours

// Our sqlite3_file; the wrapped VFS's file follows it in the same
// allocation (szOsFile covers both).
struct alignas(16) File {
  sqlite3_file base;  // must be first: SQLite sees a File* as a sqlite3_file*
  sqlite3_file* real = nullptr;
  bool is_wal = false;
  // Main database file: its WAL's File while that is open, and whether the
  // WAL's writes are buffered now.
  File* wal = nullptr;
  bool buffer_wal = false;
  // WAL file: its main database's File, and the buffered bytes, which belong
  // at buffer_offset.
  File* main_db = nullptr;
  std::string buffer;
  sqlite3_int64 buffer_offset = 0;
  // The last write was the header of a commit frame: its page, the next
  // write, ends the commit's frames.
  bool commit_page_next = false;

  bool Buffering() const { return main_db != nullptr && main_db->buffer_wal; }

  // Writes the buffered bytes; SQLITE_OK or the wrapped file's error.
  int Flush() {
    int rc = SQLITE_OK;
    for (size_t done = 0; done < buffer.size() && rc == SQLITE_OK; done += kMaxWrite) {
      const size_t n = std::min(kMaxWrite, buffer.size() - done);
      rc = real->pMethods->xWrite(real, buffer.data() + done, static_cast<int>(n),
                                  buffer_offset + static_cast<sqlite3_int64>(done));
    }
    buffer.clear();
    return rc;
  }
};

File* AsFile(sqlite3_file* f) { return reinterpret_cast<File*>(f); }

// Whether a WAL write is the 24-byte header of a frame that commits a
// transaction: SQLite writes each frame as its header, then its page, and a
// commit frame's header holds the database size in pages (big-endian, bytes
// 4-7) where other frames hold zero (https://www.sqlite.org/fileformat.html,
// "WAL Frame Format"). The 32-byte WAL header is never 24 bytes long.
bool IsCommitFrameHeader(const void* data, int amount) {
  constexpr int kFrameHeaderBytes = 24;
  if (amount != kFrameHeaderBytes) return false;
  const auto* b = static_cast<const unsigned char*>(data);
  return (b[4] | b[5] | b[6] | b[7]) != 0;
}

// Flushes a WAL file before an operation that must see its bytes; returns
// the flush's error, or SQLITE_OK to go on.
int FlushBeforeUse(File* f) { return f->is_wal ? f->Flush() : SQLITE_OK; }

int Close(sqlite3_file* file) {
  File* f = AsFile(file);
  int rc = FlushBeforeUse(f);
  if (f->is_wal && f->main_db != nullptr) f->main_db->wal = nullptr;
  if (!f->is_wal && f->wal != nullptr) f->wal->main_db = nullptr;
  const int close_rc = f->real->pMethods->xClose(f->real);
  if (rc == SQLITE_OK) rc = close_rc;
  f->~File();
  return rc;
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  File* f = AsFile(file);
  if (int rc = FlushBeforeUse(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xRead(f->real, out, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File* f = AsFile(file);
  if (!f->is_wal || !f->Buffering()) {
    if (int rc = FlushBeforeUse(f); rc != SQLITE_OK) return rc;
    return f->real->pMethods->xWrite(f->real, data, amount, offset);
  }
  if (!f->buffer.empty() &&
      offset != f->buffer_offset + static_cast<sqlite3_int64>(f->buffer.size())) {
    if (int rc = f->Flush(); rc != SQLITE_OK) return rc;
  }
  if (f->buffer.empty()) f->buffer_offset = offset;
  f->buffer.append(static_cast<const char*>(data), static_cast<size_t>(amount));
  if (f->commit_page_next) {
    // The commit's last frame: it reaches the file now, before SQLite makes
    // the commit visible to readers (which, without an fsync at commit,
    // follows at once) — and a failure fails the commit.
    f->commit_page_next = false;
    return f->Flush();
  }
  f->commit_page_next = IsCommitFrameHeader(data, amount);
  return f->buffer.size() >= kMaxBuffered ? f->Flush() : SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = AsFile(file);
  if (int rc = FlushBeforeUse(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xTruncate(f->real, size);
}

int Sync(sqlite3_file* file, int flags) {
  File* f = AsFile(file);
  if (int rc = FlushBeforeUse(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xSync(f->real, flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  File* f = AsFile(file);
  if (int rc = FlushBeforeUse(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileSize(f->real, size);
}

int Lock(sqlite3_file* file, int level) {
  File* f = AsFile(file);
  return f->real->pMethods->xLock(f->real, level);
}

int Unlock(sqlite3_file* file, int level) {
  File* f = AsFile(file);
  return f->real->pMethods->xUnlock(f->real, level);
}

int CheckReservedLock(sqlite3_file* file, int* out) {
  File* f = AsFile(file);
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  File* f = AsFile(file);
  if (op == kFcntlBufferWal && !f->is_wal) {
    f->buffer_wal = *static_cast<int*>(arg) != 0;
    if (!f->buffer_wal && f->wal != nullptr) return f->wal->Flush();
    return SQLITE_OK;
  }
  if (int rc = FlushBeforeUse(f); rc != SQLITE_OK) return rc;
  const int rc = f->real->pMethods->xFileControl(f->real, op, arg);
  if (op == SQLITE_FCNTL_VFSNAME && rc == SQLITE_OK) {
    // Name ourselves in front of the wrapped VFS, as SQLite's shims do.
    char** name = static_cast<char**>(arg);
    char* ours = sqlite3_mprintf("%s/%z", kBufferedWalVfs, *name);
    *name = ours;
  }
  return rc;
}

int SectorSize(sqlite3_file* file) {
  File* f = AsFile(file);
  return f->real->pMethods->xSectorSize(f->real);
}

int DeviceCharacteristics(sqlite3_file* file) {
  File* f = AsFile(file);
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}

int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  File* f = AsFile(file);
  return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  File* f = AsFile(file);
  return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

void ShmBarrier(sqlite3_file* file) {
  File* f = AsFile(file);
  f->real->pMethods->xShmBarrier(f->real);
}

int ShmUnmap(sqlite3_file* file, int delete_flag) {
  File* f = AsFile(file);
  return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  File* f = AsFile(file);
  if (int rc = FlushBeforeUse(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFetch(f->real, offset, amount, out);
}

int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  File* f = AsFile(file);
  return f->real->pMethods->xUnfetch(f->real, offset, page);
}

const sqlite3_io_methods kIoMethods = {
    3,         Close,      Read,     Write,    Truncate,   Sync,
    FileSize,  Lock,       Unlock,   CheckReservedLock,     FileControl,
    SectorSize, DeviceCharacteristics, ShmMap, ShmLock,    ShmBarrier,
    ShmUnmap,  Fetch,      Unfetch,
};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  File* f = new (file) File;
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + sizeof(File));
  f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
  const int rc = g_base_vfs->xOpen(g_base_vfs, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK || f->real->pMethods == nullptr ||
      f->real->pMethods->iVersion < kIoMethods.iVersion) {
    if (rc == SQLITE_OK && f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    f->~File();
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  if (f->is_wal && name != nullptr) {
    // The main database was opened through this VFS too (same connection).
    File* main_db = AsFile(sqlite3_database_file_object(name));
    if (main_db != nullptr && main_db->base.pMethods == &kIoMethods) {
      f->main_db = main_db;
      main_db->wal = f;
    }
  }
  f->base.pMethods = &kIoMethods;
  return SQLITE_OK;
}

// The rest of the VFS is the wrapped one's.
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_base_vfs->xDelete(g_base_vfs, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_base_vfs->xAccess(g_base_vfs, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_base_vfs->xFullPathname(g_base_vfs, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return g_base_vfs->xDlOpen(g_base_vfs, name); }
void DlError(sqlite3_vfs*, int n, char* out) { g_base_vfs->xDlError(g_base_vfs, n, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return g_base_vfs->xDlSym(g_base_vfs, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { g_base_vfs->xDlClose(g_base_vfs, handle); }
int Randomness(sqlite3_vfs*, int n, char* out) {
  return g_base_vfs->xRandomness(g_base_vfs, n, out);
}
int Sleep(sqlite3_vfs*, int us) { return g_base_vfs->xSleep(g_base_vfs, us); }
int CurrentTime(sqlite3_vfs*, double* out) { return g_base_vfs->xCurrentTime(g_base_vfs, out); }
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return g_base_vfs->xGetLastError(g_base_vfs, n, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_base_vfs->xCurrentTimeInt64(g_base_vfs, out);
}

absl::Status Register() {
  g_base_vfs = sqlite3_vfs_find(nullptr);
  if (g_base_vfs == nullptr) {
    return absl::FailedPreconditionError("sqlite: no default VFS is registered");
  }
  if (g_base_vfs->iVersion < 2 || g_base_vfs->xCurrentTimeInt64 == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sqlite: the default VFS \"", g_base_vfs->zName, "\" is too old (version ",
        g_base_vfs->iVersion, ")"));
  }
  std::memset(&g_vfs, 0, sizeof(g_vfs));
  g_vfs.iVersion = 2;
  g_vfs.szOsFile = static_cast<int>(sizeof(File)) + g_base_vfs->szOsFile;
  g_vfs.mxPathname = g_base_vfs->mxPathname;
  g_vfs.zName = kBufferedWalVfs;
  g_vfs.xOpen = Open;
  g_vfs.xDelete = Delete;
  g_vfs.xAccess = Access;
  g_vfs.xFullPathname = FullPathname;
  g_vfs.xDlOpen = DlOpen;
  g_vfs.xDlError = DlError;
  g_vfs.xDlSym = DlSym;
  g_vfs.xDlClose = DlClose;
  g_vfs.xRandomness = Randomness;
  g_vfs.xSleep = Sleep;
  g_vfs.xCurrentTime = CurrentTime;
  g_vfs.xGetLastError = GetLastError;
  g_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  const int rc = sqlite3_vfs_register(&g_vfs, /*makeDflt=*/0);
  if (rc != SQLITE_OK) return StatusFromSqlite(rc, sqlite3_errstr(rc), "registering the VFS");
  return absl::OkStatus();
}

}  // namespace

absl::Status RegisterBufferedWalVfs() {
  static std::once_flag once;
  static absl::Status* status = nullptr;
  std::call_once(once, [] { status = new absl::Status(Register()); });
  return *status;
}

absl::Status SetWalWriteBuffering(sqlite3* db, bool on) {
  int arg = on ? 1 : 0;
  const int rc = sqlite3_file_control(db, "main", kFcntlBufferWal, &arg);
  if (rc == SQLITE_OK) return absl::OkStatus();
  return StatusFromSqlite(rc, sqlite3_errstr(rc),
                          on ? "starting WAL write buffering" : "writing the buffered WAL");
}

}  // namespace alerthub::sqlite_internal
