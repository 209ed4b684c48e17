#include "snapshot/install.h"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "btree/btree_impl.h"
#include "core/assert.h"
#include "lsm/bulk_load.h"
#include "strata/engine.h"
#include "wal/wal_dir.h"

namespace strata::snapshot {

namespace {

constexpr std::string_view kStagingInfix = ".install-";
constexpr std::string_view kLockFileName = "LOCK";  // the LSM's; other engines have none

std::shared_ptr<io::FileSystem> FileSystemOf(const Options& options) {
  return options.file_system ? options.file_system : io::DefaultFileSystem();
}

// fsync of `dir` and every directory below it.
Status SyncTree(io::FileSystem* fs, const std::string& dir) {
  std::vector<std::string> names;
  STRATA_RETURN_IF_ERROR(fs->ListDir(dir, &names));
  for (const std::string& name : names) {
    std::vector<std::string> below;
    const std::string child = io::JoinPath(dir, name);
    if (fs->ListDir(child, &below).ok()) STRATA_RETURN_IF_ERROR(SyncTree(fs, child));
  }
  return fs->SyncDir(dir);
}

// The B+ tree's bulk path. BtreeImpl::BulkLoad pulls a sorted stream while
// the stream reader pushes verified chunks, so a loader thread pulls what
// Add queues: at most kQueuedChunks copied chunks wait, which bounds memory
// whatever the state's size. An error on either side stops both.
class BtreeBulkInstall {
 public:
  static constexpr size_t kQueuedChunks = 2;

  BtreeBulkInstall(btree::BtreeImpl* db, uint64_t sequence) : db_(db) {
    thread_ = std::thread([this, sequence] { Run(sequence); });
  }
  ~BtreeBulkInstall() {
    {
      std::lock_guard lock(mu_);
      if (result_.ok()) result_ = Status::IOError("bulk install abandoned");
      closed_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  Status Add(const std::vector<StreamEntry>& entries) {
    Chunk c;
    for (const StreamEntry& e : entries) {
      c.entries.push_back(Entry{c.bytes.size(), e.key.size(), e.value.size(), e.version});
      c.bytes.append(e.key);
      c.bytes.append(e.value);
    }
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < kQueuedChunks || !result_.ok() || done_; });
    if (!result_.ok()) return result_;
    if (done_) return Status::InvalidArgument("bulk install: entries after the loader finished");
    queue_.push_back(std::move(c));
    cv_.notify_all();
    return Status::Ok();
  }

  Status Finish() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
    thread_.join();
    std::lock_guard lock(mu_);
    return result_;
  }

 private:
  struct Entry {
    size_t offset;
    size_t key_bytes;
    size_t value_bytes;
    uint64_t version;
  };
  struct Chunk {
    std::string bytes;
    std::vector<Entry> entries;
  };

  void Run(uint64_t sequence) {
    Status s = db_->ContinueAt(sequence + 1);
    Chunk current;
    size_t next = 0;
    if (s.ok()) {
      s = db_->BulkLoad(
          [&](std::string* key, std::string* value, uint64_t* version) {
            while (next == current.entries.size()) {
              std::unique_lock lock(mu_);
              cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
              if (queue_.empty()) return false;  // closed: the end (or an abort)
              current = std::move(queue_.front());
              queue_.pop_front();
              next = 0;
              cv_.notify_all();
            }
            const Entry& e = current.entries[next++];
            key->assign(current.bytes, e.offset, e.key_bytes);
            value->assign(current.bytes, e.offset + e.key_bytes, e.value_bytes);
            *version = e.version;
            return true;
          },
          kInstallFill);
    }
    std::lock_guard lock(mu_);
    if (result_.ok()) result_ = s;  // an abort stays an abort
    done_ = true;
    cv_.notify_all();
  }

  // Installed leaves are filled this far: dense, with room for some inserts.
  static constexpr double kInstallFill = 0.9;

  btree::BtreeImpl* const db_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> queue_;  // guarded by mu_
  bool closed_ = false;      // guarded by mu_: no more chunks
  bool done_ = false;        // guarded by mu_: the loader returned
  Status result_;            // guarded by mu_
  std::thread thread_;
};

// Builds the new state: through the LSM's bulk loader (tables written
// straight from the sorted stream), the B+ tree's (BtreeBulkInstall) or,
// generically, by applying each
// verified chunk as one WriteBatch to a new database. In the generic path
// the previous chunk's batch is held back so that the last one can be
// written with sync, which makes every earlier (unsynced) write durable.
class InstallVisitor final : public StreamVisitor {
 public:
  InstallVisitor(std::string staging, Options options, InstallPath path)
      : staging_(std::move(staging)), options_(std::move(options)), path_(path) {}

  Status OnHeader(const StreamHeader& header) override {
    options_.engine = header.engine_kind;
    options_.create_if_missing = true;
    options_.error_if_exists = true;
    // The staging copy keeps its WAL inside itself: the configured wal_dir
    // belongs to the database being replaced.
    options_.wal_dir.clear();
    if (path_ == InstallPath::kFastest && header.engine_kind == "lsm") {
      return lsm::BulkLoader::Create(options_, staging_, &loader_);
    }
    STRATA_RETURN_IF_ERROR(strata::Open(options_, staging_, &engine_));
    if (path_ == InstallPath::kFastest && header.engine_kind == "btree") {
      auto* db = dynamic_cast<btree::BtreeImpl*>(engine_.get());
      STRATA_ASSERT(db != nullptr);
      btree_ = std::make_unique<BtreeBulkInstall>(db, header.sequence);
    }
    return Status::Ok();
  }

  Status OnChunk(uint32_t, const std::vector<StreamEntry>& entries) override {
    if (btree_ != nullptr) return btree_->Add(entries);
    if (loader_ != nullptr) {
      for (const StreamEntry& e : entries) {
        STRATA_RETURN_IF_ERROR(loader_->Add(e.key, e.version, e.value));
      }
      return Status::Ok();
    }
    STRATA_RETURN_IF_ERROR(WritePending(false));
    for (const StreamEntry& e : entries) {
      STRATA_RETURN_IF_ERROR(e.version == 0 ? pending_.Put(e.key, e.value)
                                            : pending_.PutVersioned(e.key, e.version, e.value));
    }
    return Status::Ok();
  }

  Status OnEnd(const StreamInfo& info) override {
    info_ = info;
    if (loader_ != nullptr) {
      STRATA_RETURN_IF_ERROR(loader_->Finish(info.sequence));
      loader_.reset();
      return Status::Ok();
    }
    if (btree_ != nullptr) {
      // The loader's last step is a checkpoint: everything is in btree.db.
      Status s = btree_->Finish();
      btree_.reset();
      if (s.ok()) s = engine_->Close();
      engine_.reset();
      return s;
    }
    STRATA_RETURN_IF_ERROR(WritePending(true));
    Status s = engine_->Flush();
    if (!s.ok() && !s.IsNotSupported()) return s;
    engine_.reset();  // closes: what the engine buffers reaches its files
    return Status::Ok();
  }

  void Close() {
    btree_.reset();  // stops the loader before its engine goes
    engine_.reset();
    loader_.reset();
  }
  const StreamInfo& info() const { return info_; }

 private:
  Status WritePending(bool sync) {
    if (pending_.Count() == 0) return Status::Ok();
    STRATA_RETURN_IF_ERROR(engine_->Write(WriteOptions{sync}, pending_));
    pending_.Clear();
    return Status::Ok();
  }

  const std::string staging_;
  Options options_;
  const InstallPath path_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<lsm::BulkLoader> loader_;
  std::unique_ptr<BtreeBulkInstall> btree_;
  WriteBatch pending_;
  StreamInfo info_;
};

// `dir` may be replaced only if it is absent, empty, or a database: an
// install never discards a directory of something else.
Status CheckReplaceable(io::FileSystem* fs, const std::string& dir) {
  std::vector<std::string> names;
  Status s = fs->ListDir(dir, &names);
  if (s.IsNotFound() || (s.ok() && names.empty())) return Status::Ok();
  STRATA_RETURN_IF_ERROR(s);
  if (fs->FileExists(io::JoinPath(dir, "KIND"))) return Status::Ok();
  return Status::InvalidArgument(dir + ": exists and is not a strata database; not replacing it");
}

}  // namespace

Status CleanupInstallLeftovers(io::FileSystem* fs, const std::string& dir) {
  return io::RemoveAbandonedScratchDirs(fs, dir, kStagingInfix);
}

Status PrepareInstall(const ByteSource& source, const std::string& dir, const Options& options,
                      InstallInfo* info, InstallPath path) {
  STRATA_ASSERT(info != nullptr);
  std::shared_ptr<io::FileSystem> fs = FileSystemOf(options);
  STRATA_RETURN_IF_ERROR(CheckReplaceable(fs.get(), dir));
  STRATA_RETURN_IF_ERROR(CleanupInstallLeftovers(fs.get(), dir));
  const std::string staging = io::ScratchDirFor(dir, kStagingInfix);
  // Our pid with a number this process never used: a dead namesake's leftover.
  STRATA_RETURN_IF_ERROR(io::RemoveTree(fs.get(), staging));
  InstallVisitor visitor(staging, options, path);
  Status s = ReadSnapshotStream(source, &visitor);
  visitor.Close();
  if (s.ok()) s = SyncTree(fs.get(), staging);
  if (s.ok()) s = fs->SyncDir(io::DirName(dir));
  if (!s.ok()) {
    (void)io::RemoveTree(fs.get(), staging);
    return s;
  }
  info->stream = visitor.info();
  info->staging_dir = staging;
  return Status::Ok();
}

namespace {

// The node's WAL directory, when it is not `<dir>/wal`: Options::wal_dir,
// else the one the replaced database records. The new state, built with its
// WAL inside it, gets WALDIR.install before the switch, so that its first
// open moves the WAL there (wal/wal_dir.h). The segments there may be
// removed only if they are the replaced database's.
Status PrepareWalHandover(io::FileSystem* fs, const std::string& dir, const Options& options,
                          const std::string& staging_dir) {
  std::string recorded;
  bool proven = false;
  if (fs->FileExists(dir)) STRATA_RETURN_IF_ERROR(wal::RecordedWalDir(fs, dir, &recorded, &proven));
  if (!recorded.empty()) recorded = wal::AbsoluteWalDir(recorded);
  const std::string wal_dir =
      options.wal_dir.empty() ? recorded : wal::AbsoluteWalDir(options.wal_dir);
  if (wal_dir.empty() || wal_dir == wal::AbsoluteWalDir(io::JoinPath(dir, "wal"))) {
    return Status::Ok();
  }
  return wal::WriteWalHandover(fs, staging_dir, wal_dir, proven && wal_dir == recorded);
}

}  // namespace

Status CommitInstall(const std::string& dir, const Options& options, InstallInfo* info) {
  STRATA_ASSERT(info != nullptr);
  STRATA_ASSERT(!info->staging_dir.empty());
  std::shared_ptr<io::FileSystem> fs = FileSystemOf(options);
  const std::string parent = io::DirName(dir);
  STRATA_RETURN_IF_ERROR(CheckReplaceable(fs.get(), dir));
  STRATA_RETURN_IF_ERROR(PrepareWalHandover(fs.get(), dir, options, info->staging_dir));
  if (!fs->FileExists(dir)) {
    STRATA_RETURN_IF_ERROR(fs->Rename(info->staging_dir, dir));
    info->replaced_existing = false;
    return fs->SyncDir(parent);
  }
  // Held across the swap: an engine still open on `dir` makes this Busy.
  std::unique_ptr<io::FileLock> lock;
  const std::string lock_path = io::JoinPath(dir, kLockFileName);
  if (fs->FileExists(lock_path)) STRATA_RETURN_IF_ERROR(fs->Lock(lock_path, &lock));
  STRATA_RETURN_IF_ERROR(fs->RenameExchange(info->staging_dir, dir));
  STRATA_RETURN_IF_ERROR(fs->SyncDir(parent));
  lock.reset();
  info->replaced_existing = true;
  // The staging name now holds the old state.
  STRATA_RETURN_IF_ERROR(io::RemoveTree(fs.get(), info->staging_dir));
  return fs->SyncDir(parent);
}

Status InstallSnapshot(const ByteSource& source, const std::string& dir, const Options& options,
                       InstallInfo* info, InstallPath path) {
  InstallInfo local;
  if (info == nullptr) info = &local;
  STRATA_RETURN_IF_ERROR(PrepareInstall(source, dir, options, info, path));
  Status s = CommitInstall(dir, options, info);
  if (!s.ok()) {
    // Whether or not the swap happened, the staging name holds the state
    // that `dir` does not: garbage either way.
    (void)io::RemoveTree(FileSystemOf(options).get(), info->staging_dir);
  }
  return s;
}

}  // namespace strata::snapshot
