// Installing a snapshot stream as a node's database, atomically.
//
// The new state is built beside the old one, in "<dir>.install-<pid>-<n>",
// as a fresh database of the stream's engine kind (strata::Open), one
// WriteBatch per verified chunk; the last chunk is written with sync, then
// the engine is flushed and closed and the staging directory synced. Only a
// stream whose trailer verified gets that far. Then the switch:
// - `dir` exists: renameat2(RENAME_EXCHANGE) swaps the two names in one
//   step, the parent is synced, and the staging name (now the old state) is
//   removed. Without RENAME_EXCHANGE support the install is NotSupported
//   (never a non-atomic rename dance).
// - `dir` does not exist: rename(staging, dir) and sync the parent.
// A crash at any point leaves `dir` on its old state or on the complete new
// one. Whatever remains under a staging name belongs to a process that is
// gone and is garbage either way (an unfinished new state, or the old state
// already swapped out); CleanupInstallLeftovers removes such names (only of
// processes no longer running) and every install calls it first.
//
// Paths: the LSM's bulk path writes its tables straight from the sorted
// stream (lsm/bulk_load.h: no WAL, no memtable, no compaction); the B+
// tree's builds leaves left to right (BtreeImpl::BulkLoad, fed by a loader
// thread through a queue of two chunks) and ends with a checkpoint; both
// continue numbering after the stream's sequence. Every other kind, or
// InstallPath::kGeneric, opens a fresh database with strata::Open
// and applies one WriteBatch per verified chunk, the last one with sync,
// then flushes and closes it. Either way the staging directory is synced
// before the switch.
//
// WAL directory: when the node keeps its WAL outside `dir` (options.wal_dir,
// else the directory the replaced database records in WALDIR), the new
// state gets WALDIR.install before the switch, and its first read-write
// open moves the WAL there (wal/wal_dir.h, wal/FORMAT.md), removing the
// replaced state's segments only when that database recorded the directory.
//
// `dir` must be absent, empty or a strata database (it has a KIND file);
// anything else is InvalidArgument and stays untouched.
//
// REQUIRES: no engine is open on `dir` when the switch happens (the old
// state may serve reads while the new one is built: call PrepareInstall,
// close the engine, then CommitInstall). An open LSM is detected by its LOCK
// (Busy).
#pragma once

#include <cstdint>
#include <string>

#include "snapshot/stream_reader.h"
#include "strata/options.h"

namespace strata::snapshot {

enum class InstallPath : uint8_t {
  kFastest = 1,  // the engine's bulk path where it has one
  kGeneric = 2,  // strata::Open and batched writes, for every engine
};

struct InstallInfo {
  StreamInfo stream;
  std::string staging_dir;  // where the new state was built
  bool replaced_existing = false;
};

// Builds the verified new state in a staging directory beside `dir` and
// fills info->staging_dir. `options` configures the new engine (its
// `engine` field is replaced by the stream's kind). On any error the staging
// directory is removed and `dir` is untouched.
Status PrepareInstall(const ByteSource& source, const std::string& dir, const Options& options,
                      InstallInfo* info, InstallPath path = InstallPath::kFastest);

// Switches `dir` to the prepared state atomically (see above).
Status CommitInstall(const std::string& dir, const Options& options, InstallInfo* info);

// PrepareInstall + CommitInstall.
Status InstallSnapshot(const ByteSource& source, const std::string& dir, const Options& options,
                       InstallInfo* info, InstallPath path = InstallPath::kFastest);

// Removes staging directories of `dir` left by processes that no longer run.
Status CleanupInstallLeftovers(io::FileSystem* fs, const std::string& dir);

}  // namespace strata::snapshot
