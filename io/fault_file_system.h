// FaultFileSystem: a FileSystem wrapper for tests that simulate power loss and
// bad disks. It forwards every call to a base FileSystem (real files, real
// fsync) and remembers what would survive a power cut, so that
// DropUnsyncedData() can rewrite the real files to exactly that state and the
// code under test then reopens real files.
//
// Durability model (what DropUnsyncedData() keeps), after POSIX:
// - File data. A file's contents are durable as of its last successful
//   Sync()/SyncAll() (or WriteAtAndSync) through this file system. Every
//   write, Allocate and Truncate since then is undone: overwritten bytes get
//   their synced value back and the file is cut to its synced size. A file
//   created and never synced is empty. Only bytes above the synced size can
//   survive partially (torn tail, below); overwrites of synced bytes are
//   always reverted.
// - Directory entries. Creating a file (NewWritableFile of a missing path),
//   Rename and RemoveFile change a name; the change is durable only after
//   SyncDir of the directory that holds the name. DropUnsyncedData puts every
//   name changed since its directory's last SyncDir back to what it was then:
//   a created file disappears (even if its data was synced), a renamed file
//   goes back to its old name (and a file it replaced comes back), a removed
//   file comes back with its synced contents. A rename across directories
//   changes two names, each durable with its own directory's SyncDir.
// - Files that existed before this FaultFileSystem first saw them count as
//   durable as they are. Directories (CreateDir, RemoveDir, renaming a
//   directory) are not modelled: they are durable at once, and a renamed
//   directory carries its files and their pending name changes along.
// - A removed (or renamed-over) file that a durable name still points at
//   comes back with the contents it had durably when it lost its name;
//   syncs through a handle after that do not change what comes back.
// - Hard links (LinkFile). The new name shares the file's inode, so it
//   shares the durable contents; the model only links files that are fully
//   synced (anything else is InvalidArgument) and treats linked files as
//   immutable: opening one for writing is NotSupported. The new name is
//   durable after SyncDir of its directory, like a created file; a crash
//   before that removes it and leaves the other name as it was.
// - RenameExchange swaps two directories at once (directories are durable
//   at once, as above), carrying their files and pending name changes.
// - After a crash, every file handle opened before it is dead (its calls
//   return IOError) and tracking starts afresh: the files on disk are the
//   durable state.
//
// Torn writes:
// - TearNextWrite(silent=false): the next matching write writes only a
//   prefix and returns IOError (a short write the caller sees).
// - TearNextWrite(silent=true): the write completes and returns ok, but if
//   power is lost before the file is synced, the file keeps its unsynced
//   bytes only up to the end of that write's prefix.
// - CrashOptions::keep_random_unsynced_prefix: at the crash, each file keeps
//   a seeded-random prefix of the bytes above its synced size, as a disk that
//   persisted part of the last writes would.
//
// Error injection: InjectError() fails the Nth operation matching a kind mask
// and a path substring (and optionally the following ones). A failed Sync()
// leaves the WritableFile failed for good: every later write and sync of it
// returns the same error, as the base file systems do.
//
// Bit flips: FlipBitOnRead() flips one bit in the data every read of a
// matching path returns at a file offset (the file is untouched);
// CorruptFileAt() flips a bit in the real file.
//
// Ownership: holds the base file system. Files it opens point back at it and
// must be destroyed before it. Threading: thread safe; one mutex guards the
// model, and writes, syncs and namespace changes run under it (a test tool,
// not a fast path). Reads run outside it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/thread_annotations.h"
#include "io/file_system.h"

namespace strata::io {

// Operation kinds, as bits so that a fault can match several.
enum class FaultOp : uint32_t {
  kRead = 1u << 0,       // RandomAccessFile::Read, each ReadBatch request, SequentialFile::Read
  kWrite = 1u << 1,      // Append, WriteAt, each write of WriteAtAndSync, Allocate, Truncate
  kSync = 1u << 2,       // Sync, SyncAll, the sync of WriteAtAndSync
  kOpen = 1u << 3,       // New/ReopenWritableFile, NewRandomAccessFile, NewSequentialFile
  kRename = 1u << 4,     // Rename
  kRemove = 1u << 5,     // RemoveFile, RemoveDir
  kSyncDir = 1u << 6,    // SyncDir
  kCreateDir = 1u << 7,  // CreateDir
  kListDir = 1u << 8,    // ListDir
  kFileSize = 1u << 9,   // FileSize
  kLock = 1u << 10,      // Lock
  kLink = 1u << 11,      // LinkFile, RenameExchange
};
inline constexpr size_t kFaultOpCount = 12;

using FaultOpMask = uint32_t;
inline constexpr FaultOpMask Mask(FaultOp op) { return static_cast<FaultOpMask>(op); }
inline constexpr FaultOpMask kFaultDataOps =
    Mask(FaultOp::kRead) | Mask(FaultOp::kWrite) | Mask(FaultOp::kSync);
inline constexpr FaultOpMask kFaultAllOps = (1u << kFaultOpCount) - 1;
inline constexpr FaultOpMask kFaultMetadataOps = kFaultAllOps & ~kFaultDataOps;

// "read", "write", ... for messages.
std::string_view FaultOpName(FaultOp op);

// Fails operations: the `nth` matching one (1 = the very next) and the
// `fail_count - 1` matching ones after it.
struct ErrorInjection {
  FaultOpMask ops = kFaultAllOps;
  std::string path_contains;  // empty matches every path
  uint64_t nth = 1;           // REQUIRES: nth >= 1
  uint64_t fail_count = 1;    // kFailForever: every matching op from the nth on
};
inline constexpr uint64_t kFailForever = UINT64_MAX;

// Tears the next write (Append, WriteAt, a write of WriteAtAndSync) to a path
// containing `path_contains`.
struct TearSpec {
  std::string path_contains;
  uint64_t prefix_bytes = 0;  // bytes of the write that reach the disk
  // false: write the prefix and return IOError.
  // true: write everything, return ok; a crash before the next sync of the
  //       file keeps its unsynced bytes only up to the end of the prefix.
  bool silent = false;
};

struct CrashOptions {
  // Keep a random prefix (chosen by `seed`) of each file's bytes above its
  // synced size, instead of none.
  bool keep_random_unsynced_prefix = false;
  uint64_t seed = 0;
};

struct FaultStats {
  std::array<uint64_t, kFaultOpCount> ops{};  // indexed by FaultOpIndex()
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;   // bytes handed to successful writes
  uint64_t bytes_synced = 0;    // bytes written since a file's previous sync, at its sync
  uint64_t injected_errors = 0;
  uint64_t torn_writes = 0;
  uint64_t flipped_bits = 0;   // reads whose data had a bit flipped
  uint64_t crashes = 0;        // DropUnsyncedData calls

  uint64_t count(FaultOp op) const;
};

// Index of a single-bit FaultOp in FaultStats::ops.
size_t FaultOpIndex(FaultOp op);

class FaultFileSystem : public FileSystem {
 public:
  explicit FaultFileSystem(std::shared_ptr<FileSystem> base);
  ~FaultFileSystem() override;
  FaultFileSystem(const FaultFileSystem&) = delete;
  FaultFileSystem& operator=(const FaultFileSystem&) = delete;

  // --- Power loss ---------------------------------------------------------
  // Rewrites the real files to the durable state described in the header
  // comment. Open handles become dead. Faults and read flips stay armed.
  Status DropUnsyncedData() { return DropUnsyncedData(CrashOptions{}); }
  Status DropUnsyncedData(const CrashOptions& options);

  // --- Faults -------------------------------------------------------------
  // Arms one error rule (replacing the previous one).
  void InjectError(const ErrorInjection& injection);
  // Arms one tear (replacing the previous unconsumed one).
  void TearNextWrite(const TearSpec& tear);
  // Every read of a path containing `path_contains` that covers `offset`
  // returns its byte at `offset` with bit `bit` (0..7) flipped.
  void FlipBitOnRead(std::string path_contains, uint64_t offset, int bit);
  // Disarms errors, tears and read flips.
  void ClearFaults();
  // Flips bit `bit` of the byte at `offset` of the real file, as durable
  // media damage. Use it on bytes that are synced.
  Status CorruptFileAt(const std::string& path, uint64_t offset, int bit);

  FaultStats stats() const;
  void ResetStats();
  const std::shared_ptr<FileSystem>& base() const { return base_; }

  // --- FileSystem ---------------------------------------------------------
  Status NewWritableFile(const std::string& path, const FileOptions& options,
                         std::unique_ptr<WritableFile>* file) override;
  Status ReopenWritableFile(const std::string& path, const FileOptions& options,
                            std::unique_ptr<WritableFile>* file) override;
  Status NewRandomAccessFile(const std::string& path, const FileOptions& options,
                             std::unique_ptr<RandomAccessFile>* file) override;
  Status NewSequentialFile(const std::string& path, const FileOptions& options,
                           std::unique_ptr<SequentialFile>* file) override;
  Status CreateDir(const std::string& path) override;
  Status ListDir(const std::string& path, std::vector<std::string>* names) override;
  Status SyncDir(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status LinkFile(const std::string& from, const std::string& to) override;
  Status RenameExchange(const std::string& a, const std::string& b) override;
  Status RemoveFile(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Status Lock(const std::string& path, std::unique_ptr<FileLock>* lock) override;
  std::string_view name() const override { return name_; }

 private:
  friend class FaultWritableFile;
  friend class FaultRandomAccessFile;
  friend class FaultSequentialFile;

  // One file (inode) the model tracks.
  struct Node {
    std::string path;              // current name; empty once unlinked
    uint64_t synced_bytes = 0;     // size at the last sync
    uint64_t unsynced_written = 0; // bytes written since the last sync
    // Synced bytes overwritten (or truncated away) since the last sync, by
    // offset; ranges never overlap. Only bytes below synced_bytes are kept.
    std::map<uint64_t, std::string> undo;
    std::optional<uint64_t> silent_tear_end;  // a silent tear's end offset
    // Synced contents, captured when the node lost its name while some
    // durable name still points at it.
    std::optional<std::string> saved_durable;
    bool linked = false;  // shares its inode with another name (immutable)
  };
  struct BitFlip {
    std::string path_contains;
    uint64_t offset;
    int bit;
  };

  // All below: REQUIRES mu_ held.
  Status MaybeFail(FaultOp op, std::string_view path);
  bool CheckEpoch(uint64_t epoch) const { return epoch == epoch_; }
  Status DeadHandle(std::string_view path) const;
  uint64_t NodeForPath(const std::string& path);  // tracks an existing file, 0 if none
  uint64_t NewNode(const std::string& path, uint64_t synced_bytes);
  void NoteNameChange(const std::string& path);
  // Saves a node's durable contents if a durable name still points at it;
  // call before the base unlinks it (remove, or rename over it).
  Status PrepareUnlink(uint64_t id);
  void FinishUnlink(uint64_t id);
  Status RenameDirectory(const std::string& from, const std::string& to);
  // Renames every tracked name under the directory `from` to be under `to`.
  void MoveTrackedNames(const std::string& from, const std::string& to);
  Status SaveOriginal(Node& node, uint64_t begin, uint64_t end);
  Status BeforeWrite(uint64_t id, uint64_t offset, uint64_t bytes);
  void AfterWrite(uint64_t id, uint64_t bytes);
  void AfterSync(uint64_t id, uint64_t size);
  Result<std::string> DurableContents(const Node& node);
  Status RevertData(Node& node, uint64_t keep_extra_bytes);
  Status RestoreNames();
  // Applies read flips to data read from [offset, offset + n). Locks mu_.
  void ApplyFlips(const std::string& path, uint64_t offset, char* buf, size_t n);
  void CountRead(size_t bytes);

  std::shared_ptr<FileSystem> base_;
  std::string name_;

  // mu_ guards every piece of simulated state below; the file handles take
  // it for each operation.
  mutable std::mutex mu_;
  uint64_t epoch_ STRATA_GUARDED_BY(mu_) = 1;  // bumped by every crash; handles remember theirs
  uint64_t next_node_id_ STRATA_GUARDED_BY(mu_) = 1;
  std::unordered_map<uint64_t, Node> nodes_ STRATA_GUARDED_BY(mu_);
  std::unordered_map<std::string, uint64_t> live_ STRATA_GUARDED_BY(mu_);  // name -> node
  // Names changed since their directory's last SyncDir -> node they durably
  // name (nullopt: durably absent).
  std::map<std::string, std::optional<uint64_t>> durable_names_ STRATA_GUARDED_BY(mu_);
  std::optional<ErrorInjection> injection_ STRATA_GUARDED_BY(mu_);
  uint64_t injection_seen_ STRATA_GUARDED_BY(mu_) = 0;
  uint64_t injection_failed_ STRATA_GUARDED_BY(mu_) = 0;
  std::optional<TearSpec> tear_ STRATA_GUARDED_BY(mu_);
  std::vector<BitFlip> flips_ STRATA_GUARDED_BY(mu_);
  FaultStats stats_ STRATA_GUARDED_BY(mu_);
};

}  // namespace strata::io
