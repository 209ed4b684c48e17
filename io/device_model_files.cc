// DeviceModelFileSystem: the file handles and the namespace calls. Handles
// forward to the base and charge what completed.
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "io/device_model.h"

namespace strata::io {

namespace {

std::string NormalizePath(const std::string& path) {
  std::string out = std::filesystem::path(path).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

class DeviceWritableFile final : public WritableFile {
 public:
  DeviceWritableFile(DeviceModelFileSystem* fs, std::unique_ptr<WritableFile> base, uint64_t slot)
      : fs_(fs), base_(std::move(base)), slot_(slot) {}
  ~DeviceWritableFile() override {
    if (!closed_) fs_->ChargeClose(slot_);
  }

  Status Append(std::string_view data) override {
    const uint64_t offset = base_->size();
    STRATA_RETURN_IF_ERROR(base_->Append(data));
    fs_->ChargeWrite(slot_, offset, data.size());
    return Status::Ok();
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    STRATA_RETURN_IF_ERROR(base_->WriteAt(offset, data));
    fs_->ChargeWrite(slot_, offset, data.size());
    return Status::Ok();
  }
  Status WriteAtAndSync(std::span<const std::pair<uint64_t, std::string_view>> writes) override {
    STRATA_RETURN_IF_ERROR(base_->WriteAtAndSync(writes));
    for (const auto& [offset, data] : writes) fs_->ChargeWrite(slot_, offset, data.size());
    fs_->ChargeSync(&slot_);
    return Status::Ok();
  }
  Status Sync() override {
    STRATA_RETURN_IF_ERROR(base_->Sync());
    fs_->ChargeSync(&slot_);
    return Status::Ok();
  }
  Status SyncAll() override {
    STRATA_RETURN_IF_ERROR(base_->SyncAll());
    fs_->ChargeSync(&slot_);
    return Status::Ok();
  }
  // Allocation and truncation change metadata only; the model charges data.
  Status Allocate(uint64_t offset, uint64_t bytes) override {
    return base_->Allocate(offset, bytes);
  }
  Status Truncate(uint64_t size) override { return base_->Truncate(size); }
  Status Close() override {
    if (!closed_) fs_->ChargeClose(slot_);
    closed_ = true;
    return base_->Close();
  }
  uint64_t size() const override { return base_->size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  DeviceModelFileSystem* fs_;
  std::unique_ptr<WritableFile> base_;
  uint64_t slot_;
  bool closed_ = false;
};

class DeviceRandomAccessFile final : public RandomAccessFile {
 public:
  DeviceRandomAccessFile(DeviceModelFileSystem* fs, std::unique_ptr<RandomAccessFile> base,
                         uint64_t slot)
      : fs_(fs), base_(std::move(base)), slot_(slot) {}

  Status Read(uint64_t offset, size_t n, char* buf, size_t* bytes_read) const override {
    STRATA_RETURN_IF_ERROR(base_->Read(offset, n, buf, bytes_read));
    fs_->ChargeRead(slot_, offset, *bytes_read);
    return Status::Ok();
  }
  Status ReadBatch(std::span<ReadRequest> requests) const override {
    Status s = base_->ReadBatch(requests);
    for (const ReadRequest& req : requests) {
      if (req.status.ok()) fs_->ChargeRead(slot_, req.offset, req.bytes_read);
    }
    return s;
  }
  Result<uint64_t> Size() const override { return base_->Size(); }
  Result<uint64_t> DataEnd() const override { return base_->DataEnd(); }
  const std::string& path() const override { return base_->path(); }

 private:
  DeviceModelFileSystem* fs_;
  std::unique_ptr<RandomAccessFile> base_;
  uint64_t slot_;
};

class DeviceSequentialFile final : public SequentialFile {
 public:
  DeviceSequentialFile(DeviceModelFileSystem* fs, std::unique_ptr<SequentialFile> base,
                       uint64_t slot)
      : fs_(fs), base_(std::move(base)), slot_(slot) {}

  Status Read(size_t n, char* buf, size_t* bytes_read) override {
    STRATA_RETURN_IF_ERROR(base_->Read(n, buf, bytes_read));
    fs_->ChargeRead(slot_, offset_, *bytes_read);
    offset_ += *bytes_read;
    return Status::Ok();
  }
  Status Skip(uint64_t n) override {
    STRATA_RETURN_IF_ERROR(base_->Skip(n));
    offset_ += n;
    return Status::Ok();
  }
  const std::string& path() const override { return base_->path(); }

 private:
  DeviceModelFileSystem* fs_;
  std::unique_ptr<SequentialFile> base_;
  uint64_t slot_;
  uint64_t offset_ = 0;
};

}  // namespace

Status DeviceModelFileSystem::NewWritableFile(const std::string& path, const FileOptions& options,
                                              std::unique_ptr<WritableFile>* file) {
  std::unique_ptr<WritableFile> base_file;
  STRATA_RETURN_IF_ERROR(base_->NewWritableFile(path, options, &base_file));
  *file = std::make_unique<DeviceWritableFile>(this, std::move(base_file), SlotFor(path));
  return Status::Ok();
}

Status DeviceModelFileSystem::ReopenWritableFile(const std::string& path,
                                                 const FileOptions& options,
                                                 std::unique_ptr<WritableFile>* file) {
  std::unique_ptr<WritableFile> base_file;
  STRATA_RETURN_IF_ERROR(base_->ReopenWritableFile(path, options, &base_file));
  *file = std::make_unique<DeviceWritableFile>(this, std::move(base_file), SlotFor(path));
  return Status::Ok();
}

Status DeviceModelFileSystem::NewRandomAccessFile(const std::string& path,
                                                  const FileOptions& options,
                                                  std::unique_ptr<RandomAccessFile>* file) {
  std::unique_ptr<RandomAccessFile> base_file;
  STRATA_RETURN_IF_ERROR(base_->NewRandomAccessFile(path, options, &base_file));
  *file = std::make_unique<DeviceRandomAccessFile>(this, std::move(base_file), SlotFor(path));
  return Status::Ok();
}

Status DeviceModelFileSystem::NewSequentialFile(const std::string& path,
                                                const FileOptions& options,
                                                std::unique_ptr<SequentialFile>* file) {
  std::unique_ptr<SequentialFile> base_file;
  STRATA_RETURN_IF_ERROR(base_->NewSequentialFile(path, options, &base_file));
  *file = std::make_unique<DeviceSequentialFile>(this, std::move(base_file), SlotFor(path));
  return Status::Ok();
}

Status DeviceModelFileSystem::SyncDir(const std::string& path) {
  STRATA_RETURN_IF_ERROR(base_->SyncDir(path));
  ChargeSync(nullptr);
  return Status::Ok();
}

Status DeviceModelFileSystem::Rename(const std::string& from, const std::string& to) {
  STRATA_RETURN_IF_ERROR(base_->Rename(from, to));
  // The file keeps its blocks: its slot follows the name.
  std::lock_guard lock(mu_);
  auto node = slots_.extract(NormalizePath(from));
  if (node.empty()) return Status::Ok();
  node.key() = NormalizePath(to);
  slots_.erase(node.key());
  slots_.insert(std::move(node));
  return Status::Ok();
}

// A link writes no data blocks; the new name reads the old name's blocks
// (modelled as a fresh slot on its first write, which never comes for the
// immutable files that get linked).
Status DeviceModelFileSystem::LinkFile(const std::string& from, const std::string& to) {
  return base_->LinkFile(from, to);
}

Status DeviceModelFileSystem::RenameExchange(const std::string& a, const std::string& b) {
  return base_->RenameExchange(a, b);
}

Status DeviceModelFileSystem::RemoveFile(const std::string& path) {
  STRATA_RETURN_IF_ERROR(base_->RemoveFile(path));
  std::lock_guard lock(mu_);
  auto it = slots_.find(NormalizePath(path));
  if (it == slots_.end()) return Status::Ok();
  open_pages_.erase(it->second);  // a deleted file's buffered page is never written
  slots_.erase(it);
  return Status::Ok();
}

}  // namespace strata::io
