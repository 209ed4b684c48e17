#include "io/direct_append_file.h"

#include <cstring>

#include "io/aligned_buffer.h"

namespace strata::io {

namespace {

class DirectAppendFile final : public WritableFile {
 public:
  DirectAppendFile(std::unique_ptr<WritableFile> base, size_t buffer_bytes, bool direct)
      : base_(std::move(base)), buffer_(std::max(buffer_bytes, kDirectIoAlignment)),
        direct_(direct) {}

  Status Append(std::string_view data) override {
    while (!data.empty()) {
      const size_t n = std::min(data.size(), buffer_.remaining());
      buffer_.Append(data.substr(0, n));
      data.remove_prefix(n);
      size_ += n;
      tail_on_disk_ = false;
      if (buffer_.remaining() == 0) {
        STRATA_RETURN_IF_ERROR(base_->WriteAt(buffer_offset_, buffer_.view()));
        buffer_offset_ += buffer_.size();
        buffer_.Clear();
      }
    }
    return Status::Ok();
  }
  Status WriteAt(uint64_t, std::string_view) override { return Unsupported("WriteAt"); }
  Status WriteAtAndSync(std::span<const std::pair<uint64_t, std::string_view>>) override {
    return Unsupported("WriteAtAndSync");
  }
  Status Sync() override {
    STRATA_RETURN_IF_ERROR(WriteTail());
    return base_->Sync();
  }
  Status SyncAll() override {
    STRATA_RETURN_IF_ERROR(WriteTail());
    return base_->SyncAll();
  }
  Status Allocate(uint64_t offset, uint64_t bytes) override {
    return base_->Allocate(offset, bytes);
  }
  Status Truncate(uint64_t) override { return Unsupported("Truncate"); }
  Status Close() override {
    if (closed_) return Status::Ok();
    closed_ = true;
    STRATA_RETURN_IF_ERROR(WriteTail());
    return base_->Close();
  }
  uint64_t size() const override { return size_; }
  const std::string& path() const override { return base_->path(); }

 private:
  Status Unsupported(std::string_view what) const {
    return Status::NotSupported(base_->path() + ": " + std::string(what) +
                                " on an O_DIRECT append file");
  }

  // Writes the buffered bytes (zero-padded to the alignment) at their
  // aligned offset and truncates the file to the logical size. The aligned
  // whole blocks leave the buffer; a partial last block stays in it.
  Status WriteTail() {
    if (buffer_.size() == 0 || tail_on_disk_) return Status::Ok();
    const size_t used = buffer_.size();
    if (!direct_) {
      // Buffered: any length at any offset; the buffer empties.
      STRATA_RETURN_IF_ERROR(base_->WriteAt(buffer_offset_, buffer_.view()));
      buffer_offset_ += used;
      buffer_.Clear();
      return Status::Ok();
    }
    const size_t padded = AlignUp(used);
    std::memset(buffer_.data() + used, 0, padded - used);
    STRATA_RETURN_IF_ERROR(
        base_->WriteAt(buffer_offset_, std::string_view(buffer_.data(), padded)));
    if (padded != used) STRATA_RETURN_IF_ERROR(base_->Truncate(size_));
    const size_t whole = AlignDown(used);
    if (whole > 0) {
      std::memmove(buffer_.data(), buffer_.data() + whole, used - whole);
      buffer_.Resize(used - whole);
      buffer_offset_ += whole;
    }
    tail_on_disk_ = true;
    return Status::Ok();
  }

  std::unique_ptr<WritableFile> base_;
  AlignedBuffer buffer_;
  uint64_t buffer_offset_ = 0;  // file offset of buffer_[0]; aligned
  uint64_t size_ = 0;
  bool tail_on_disk_ = false;  // the buffer's bytes are on disk as they are
  bool closed_ = false;
  const bool direct_;  // O_DIRECT: writes are whole aligned blocks
};

}  // namespace

Status NewDirectAppendFile(FileSystem* fs, const std::string& path, size_t buffer_bytes,
                           std::unique_ptr<WritableFile>* file, bool* direct) {
  FileOptions options;
  options.direct = true;
  std::unique_ptr<WritableFile> base;
  if (fs->NewWritableFile(path, options, &base).ok()) {
    *direct = true;
    *file = std::make_unique<DirectAppendFile>(std::move(base), buffer_bytes, true);
    return Status::Ok();
  }
  *direct = false;
  return NewBufferedAppendFile(fs, path, buffer_bytes, file);
}

Status NewBufferedAppendFile(FileSystem* fs, const std::string& path, size_t buffer_bytes,
                             std::unique_ptr<WritableFile>* file) {
  std::unique_ptr<WritableFile> base;
  STRATA_RETURN_IF_ERROR(fs->NewWritableFile(path, FileOptions{}, &base));
  *file = std::make_unique<DirectAppendFile>(std::move(base), buffer_bytes, false);
  return Status::Ok();
}

}  // namespace strata::io
