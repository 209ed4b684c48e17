#include "wal/segment_loader.h"

#include <algorithm>

#include "core/assert.h"
#include "wal/limits.h"

namespace strata::wal {

SegmentLoader::SegmentLoader(io::FileSystem* fs, std::vector<Item> items)
    : fs_(fs), items_(std::move(items)) {}

SegmentLoader::~SegmentLoader() { Join(); }

void SegmentLoader::Join() {
  if (prefetch_.joinable()) prefetch_.join();
}

void SegmentLoader::Load(size_t index, Slot* slot) {
  const Item& item = items_[index];
  slot->bytes = 0;
  std::unique_ptr<io::RandomAccessFile> file;
  io::FileOptions direct;
  direct.direct = true;
  bool is_direct = true;
  if (!fs_->NewRandomAccessFile(item.path, direct, &file).ok()) {
    is_direct = false;  // e.g. tmpfs: no O_DIRECT
    slot->status = fs_->NewRandomAccessFile(item.path, io::FileOptions{}, &file);
    if (!slot->status.ok()) return;
  }
  auto size = file->Size();
  if (!size.ok()) {
    slot->status = size.status();
    return;
  }
  const uint64_t want = std::min(*size, item.bytes_max);
  // O_DIRECT lengths are whole blocks; a read past the end comes back short.
  const uint64_t request_bytes = is_direct ? AlignUp(want, kDirectBlockBytes) : want;
  slot->buf.Reserve(std::max<uint64_t>(request_bytes, 1));
  std::vector<io::ReadRequest> requests;
  for (uint64_t at = 0; at < request_bytes; at += kRecoveryReadBytes) {
    io::ReadRequest r;
    r.offset = at;
    r.length = static_cast<size_t>(std::min<uint64_t>(kRecoveryReadBytes, request_bytes - at));
    r.buffer = slot->buf.data() + at;
    requests.push_back(r);
  }
  slot->status = file->ReadBatch(requests);
  if (!slot->status.ok()) return;
  uint64_t got = 0;
  for (const io::ReadRequest& r : requests) {
    got += r.bytes_read;
    if (r.bytes_read < r.length) break;  // end of file
  }
  slot->bytes = std::min(got, want);
}

Status SegmentLoader::Next(size_t index, std::string_view* data) {
  STRATA_ASSERT(index < items_.size());
  Slot* slot = &slots_[index % 2];
  if (prefetched_ == index) {
    Join();
  } else {
    Join();
    Load(index, slot);
  }
  if (index + 1 < items_.size()) {
    prefetched_ = index + 1;
    Slot* next = &slots_[(index + 1) % 2];
    prefetch_ = std::thread([this, index, next] { Load(index + 1, next); });
  }
  STRATA_RETURN_IF_ERROR(slot->status);
  *data = std::string_view(slot->buf.data(), slot->bytes);
  return Status::Ok();
}

}  // namespace strata::wal
