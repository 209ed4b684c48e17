// The file handles FaultFileSystem hands out (internal to io/). Each one
// forwards to a base handle and reports to its FaultFileSystem, which it
// points at without owning: a handle must not outlive its file system.
// Threading: as the FileSystem contract (a WritableFile has one user at a
// time; reads may run concurrently); the shared model is locked by the fs.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "io/fault_file_system.h"

namespace strata::io {

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultFileSystem* fs, std::unique_ptr<WritableFile> base, uint64_t node_id,
                    uint64_t epoch)
      : fs_(fs), base_(std::move(base)), node_id_(node_id), epoch_(epoch) {}

  Status Append(std::string_view data) override;
  Status WriteAt(uint64_t offset, std::string_view data) override;
  // Runs as the writes one by one, then Sync(): the sync runs only if every
  // write completed in full, as the base contract says.
  Status WriteAtAndSync(std::span<const std::pair<uint64_t, std::string_view>> writes) override;
  Status Sync() override { return DoSync(/*all=*/false); }
  Status SyncAll() override { return DoSync(/*all=*/true); }
  Status Allocate(uint64_t offset, uint64_t bytes) override;
  Status Truncate(uint64_t size) override;
  Status Close() override { return base_->Close(); }
  uint64_t size() const override { return base_->size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  // REQUIRES: fs_->mu_ held.
  Status Usable() const;
  Status WriteLocked(uint64_t offset, std::string_view data);
  Status SyncLocked(bool all);
  Status DoSync(bool all);

  FaultFileSystem* fs_;
  std::unique_ptr<WritableFile> base_;
  uint64_t node_id_;
  uint64_t epoch_;
  Status failed_;  // set by a failed sync, for good
};

class FaultRandomAccessFile final : public RandomAccessFile {
 public:
  FaultRandomAccessFile(FaultFileSystem* fs, std::unique_ptr<RandomAccessFile> base,
                        uint64_t epoch)
      : fs_(fs), base_(std::move(base)), epoch_(epoch) {}

  Status Read(uint64_t offset, size_t n, char* buf, size_t* bytes_read) const override;
  Status ReadBatch(std::span<ReadRequest> requests) const override;
  Result<uint64_t> Size() const override { return base_->Size(); }
  Result<uint64_t> DataEnd() const override { return base_->DataEnd(); }
  const std::string& path() const override { return base_->path(); }

 private:
  // Counts one read and returns its injected error, if any. Locks.
  Status BeforeRead() const;

  FaultFileSystem* fs_;
  std::unique_ptr<RandomAccessFile> base_;
  uint64_t epoch_;
};

class FaultSequentialFile final : public SequentialFile {
 public:
  FaultSequentialFile(FaultFileSystem* fs, std::unique_ptr<SequentialFile> base, uint64_t epoch)
      : fs_(fs), base_(std::move(base)), epoch_(epoch) {}

  Status Read(size_t n, char* buf, size_t* bytes_read) override;
  Status Skip(uint64_t n) override;
  const std::string& path() const override { return base_->path(); }

 private:
  FaultFileSystem* fs_;
  std::unique_ptr<SequentialFile> base_;
  uint64_t epoch_;
  uint64_t offset_ = 0;  // where the next Read starts, for read bit flips
};

}  // namespace strata::io
