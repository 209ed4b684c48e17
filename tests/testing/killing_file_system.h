// A file system that SIGKILLs its process before the N-th mutating
// operation (every create, write, sync, allocate, truncate, rename, link,
// exchange and remove counts): crash tests run the code under test in a
// forked child and sweep N over every operation it performs.
#pragma once

#include <signal.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "io/file_system.h"

namespace strata::testing {

// Counts mutating operations and SIGKILLs the process before the kill_at-th.
class KillSwitch {
 public:
  explicit KillSwitch(uint64_t kill_at) : kill_at_(kill_at) {}
  void Tick() {
    if (count_.fetch_add(1) + 1 == kill_at_) ::raise(SIGKILL);
  }
  uint64_t count() const { return count_.load(); }

 private:
  const uint64_t kill_at_;  // 0: never
  std::atomic<uint64_t> count_{0};
};

class KillingWritableFile final : public io::WritableFile {
 public:
  KillingWritableFile(std::unique_ptr<io::WritableFile> base, KillSwitch* kill)
      : base_(std::move(base)), kill_(kill) {}
  Status Append(std::string_view data) override { return kill_->Tick(), base_->Append(data); }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    return kill_->Tick(), base_->WriteAt(offset, data);
  }
  Status WriteAtAndSync(
      std::span<const std::pair<uint64_t, std::string_view>> writes) override {
    return kill_->Tick(), base_->WriteAtAndSync(writes);
  }
  Status Sync() override { return kill_->Tick(), base_->Sync(); }
  Status SyncAll() override { return kill_->Tick(), base_->SyncAll(); }
  Status Allocate(uint64_t offset, uint64_t bytes) override {
    return kill_->Tick(), base_->Allocate(offset, bytes);
  }
  Status Truncate(uint64_t size) override { return kill_->Tick(), base_->Truncate(size); }
  Status Close() override { return base_->Close(); }
  uint64_t size() const override { return base_->size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  std::unique_ptr<io::WritableFile> base_;
  KillSwitch* const kill_;
};

class KillingFileSystem final : public io::FileSystem {
 public:
  KillingFileSystem(std::shared_ptr<io::FileSystem> base, KillSwitch* kill)
      : base_(std::move(base)), kill_(kill) {}
  Status NewWritableFile(const std::string& path, const io::FileOptions& options,
                         std::unique_ptr<io::WritableFile>* file) override {
    kill_->Tick();
    return Wrap(base_->NewWritableFile(path, options, file), file);
  }
  Status ReopenWritableFile(const std::string& path, const io::FileOptions& options,
                            std::unique_ptr<io::WritableFile>* file) override {
    kill_->Tick();
    return Wrap(base_->ReopenWritableFile(path, options, file), file);
  }
  Status NewRandomAccessFile(const std::string& path, const io::FileOptions& options,
                             std::unique_ptr<io::RandomAccessFile>* file) override {
    return base_->NewRandomAccessFile(path, options, file);
  }
  Status NewSequentialFile(const std::string& path, const io::FileOptions& options,
                           std::unique_ptr<io::SequentialFile>* file) override {
    return base_->NewSequentialFile(path, options, file);
  }
  Status CreateDir(const std::string& path) override { return kill_->Tick(), base_->CreateDir(path); }
  Status ListDir(const std::string& path, std::vector<std::string>* names) override {
    return base_->ListDir(path, names);
  }
  Status SyncDir(const std::string& path) override { return kill_->Tick(), base_->SyncDir(path); }
  Status RemoveDir(const std::string& path) override { return kill_->Tick(), base_->RemoveDir(path); }
  Status Rename(const std::string& from, const std::string& to) override {
    return kill_->Tick(), base_->Rename(from, to);
  }
  Status LinkFile(const std::string& from, const std::string& to) override {
    return kill_->Tick(), base_->LinkFile(from, to);
  }
  Status RenameExchange(const std::string& a, const std::string& b) override {
    return kill_->Tick(), base_->RenameExchange(a, b);
  }
  Status RemoveFile(const std::string& path) override {
    return kill_->Tick(), base_->RemoveFile(path);
  }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  Status Lock(const std::string& path, std::unique_ptr<io::FileLock>* lock) override {
    return base_->Lock(path, lock);
  }
  std::string_view name() const override { return "killing"; }

 private:
  Status Wrap(Status s, std::unique_ptr<io::WritableFile>* file) {
    if (s.ok()) *file = std::make_unique<KillingWritableFile>(std::move(*file), kill_);
    return s;
  }
  std::shared_ptr<io::FileSystem> base_;
  KillSwitch* const kill_;
};

}  // namespace strata::testing
