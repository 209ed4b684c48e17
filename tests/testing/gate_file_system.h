// GateFileSystem: forwards to a base file system, except at one gate that a
// test arms and opens, to hold an operation in progress for as long as it
// wants:
// - Arm: the next write of WAL records (a WriteAt or WriteAtAndSync at or
//   past the segment header, in a path under a "wal" directory) waits;
// - ArmTableCreate: the next creation of a table file (".sst") waits, then
//   fails: a flush or compaction that fails when the test says so;
// - ArmRead: the next read through a RandomAccessFile waits (a slow disk
//   read, e.g. of old log entries).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>

#include "io/file_system.h"
#include "wal/limits.h"

namespace strata::testing {

class GateFileSystem final : public io::FileSystem {
 public:
  explicit GateFileSystem(std::shared_ptr<io::FileSystem> base) : base_(std::move(base)) {}

  // The next WAL record write blocks (until Open()).
  void Arm() {
    std::lock_guard lock(mu_);
    armed_ = true;
    open_ = false;
  }
  // The next creation of a ".sst" file blocks (until Open()), then fails
  // with `error`.
  void ArmTableCreate(Status error) {
    std::lock_guard lock(mu_);
    table_armed_ = true;
    table_error_ = std::move(error);
    open_ = false;
  }
  // The next RandomAccessFile::Read blocks (until Open()).
  void ArmRead() {
    std::lock_guard lock(mu_);
    read_armed_ = true;
    open_ = false;
  }
  // Returns once an armed operation waits at the gate.
  void WaitUntilBlocked() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return blocked_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

  Status NewWritableFile(const std::string& path, const io::FileOptions& options,
                         std::unique_ptr<io::WritableFile>* file) override {
    if (path.ends_with(".sst")) {
      std::unique_lock lock(mu_);
      if (table_armed_) {
        table_armed_ = false;
        Wait(lock);
        return table_error_;
      }
    }
    return Wrap(path, base_->NewWritableFile(path, options, file), file);
  }
  Status ReopenWritableFile(const std::string& path, const io::FileOptions& options,
                            std::unique_ptr<io::WritableFile>* file) override {
    return Wrap(path, base_->ReopenWritableFile(path, options, file), file);
  }
  Status NewRandomAccessFile(const std::string& path, const io::FileOptions& options,
                             std::unique_ptr<io::RandomAccessFile>* file) override {
    std::unique_ptr<io::RandomAccessFile> base;
    STRATA_RETURN_IF_ERROR(base_->NewRandomAccessFile(path, options, &base));
    *file = std::make_unique<ReadFile>(this, std::move(base));
    return Status::Ok();
  }
  Status NewSequentialFile(const std::string& path, const io::FileOptions& options,
                           std::unique_ptr<io::SequentialFile>* file) override {
    return base_->NewSequentialFile(path, options, file);
  }
  Status CreateDir(const std::string& path) override { return base_->CreateDir(path); }
  Status ListDir(const std::string& path, std::vector<std::string>* names) override {
    return base_->ListDir(path, names);
  }
  Status SyncDir(const std::string& path) override { return base_->SyncDir(path); }
  Status RemoveDir(const std::string& path) override { return base_->RemoveDir(path); }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  Status Lock(const std::string& path, std::unique_ptr<io::FileLock>* lock) override {
    return base_->Lock(path, lock);
  }
  std::string_view name() const override { return "gate"; }

 private:
  class ReadFile final : public io::RandomAccessFile {
   public:
    ReadFile(GateFileSystem* fs, std::unique_ptr<io::RandomAccessFile> base)
        : fs_(fs), base_(std::move(base)) {}
    Status Read(uint64_t offset, size_t n, char* buf, size_t* bytes_read) const override {
      fs_->MaybeBlockRead();
      return base_->Read(offset, n, buf, bytes_read);
    }
    Result<uint64_t> Size() const override { return base_->Size(); }
    const std::string& path() const override { return base_->path(); }

   private:
    GateFileSystem* const fs_;
    std::unique_ptr<io::RandomAccessFile> base_;
  };

  class File final : public io::WritableFile {
   public:
    File(GateFileSystem* fs, std::unique_ptr<io::WritableFile> base)
        : fs_(fs), base_(std::move(base)) {}
    Status Append(std::string_view data) override { return base_->Append(data); }
    Status WriteAt(uint64_t offset, std::string_view data) override {
      fs_->MaybeBlock(offset);
      return base_->WriteAt(offset, data);
    }
    Status WriteAtAndSync(
        std::span<const std::pair<uint64_t, std::string_view>> writes) override {
      if (!writes.empty()) fs_->MaybeBlock(writes.front().first);
      return base_->WriteAtAndSync(writes);
    }
    Status Sync() override { return base_->Sync(); }
    Status SyncAll() override { return base_->SyncAll(); }
    Status Allocate(uint64_t offset, uint64_t bytes) override {
      return base_->Allocate(offset, bytes);
    }
    Status Truncate(uint64_t size) override { return base_->Truncate(size); }
    Status Close() override { return base_->Close(); }
    uint64_t size() const override { return base_->size(); }
    const std::string& path() const override { return base_->path(); }

   private:
    GateFileSystem* const fs_;
    std::unique_ptr<io::WritableFile> base_;
  };

  Status Wrap(const std::string& path, Status s, std::unique_ptr<io::WritableFile>* file) {
    if (s.ok() && path.find("/wal/") != std::string::npos) {
      *file = std::make_unique<File>(this, std::move(*file));
    }
    return s;
  }

  // Segment headers (offset 0) are written by the segment preparer, not by
  // a writer: only record writes are held.
  void MaybeBlock(uint64_t offset) {
    if (offset < wal::kSegmentHeaderBytes) return;
    std::unique_lock lock(mu_);
    if (!armed_) return;
    armed_ = false;
    Wait(lock);
  }
  void MaybeBlockRead() {
    std::unique_lock lock(mu_);
    if (!read_armed_) return;
    read_armed_ = false;
    Wait(lock);
  }
  void Wait(std::unique_lock<std::mutex>& lock) {
    blocked_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    blocked_ = false;
  }

  const std::shared_ptr<io::FileSystem> base_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool table_armed_ = false;
  bool read_armed_ = false;
  Status table_error_;
  bool open_ = true;
  bool blocked_ = false;
};

}  // namespace strata::testing
