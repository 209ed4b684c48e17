#include "wal/segment_loader.h"

#include <algorithm>

#include "core/assert.h"
#include "wal/limits.h"

namespace strata::wal {

SegmentLoader::SegmentLoader(io::FileSystem* fs, std::vector<Item> items)
    : fs_(fs), items_(std::move(items)) {
  if (!items_.empty()) reader_ = std::thread([this] { ReaderLoop(); });
}

SegmentLoader::~SegmentLoader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (reader_.joinable()) reader_.join();
}

void SegmentLoader::ReaderLoop() {
  for (size_t index = 0; index < items_.size(); ++index) {
    Slot* slot = &slots_[index % 2];
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || slot->free; });
      if (stop_) return;
      slot->free = false;
      slot->index = index;
      slot->ready = 0;
      slot->complete = false;
      slot->status = Status::Ok();
    }
    Load(index, slot);
  }
}

void SegmentLoader::Load(size_t index, Slot* slot) {
  const Item& item = items_[index];
  auto finish = [&](Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    slot->status = std::move(status);
    slot->complete = true;
    cv_.notify_all();
  };
  std::unique_ptr<io::RandomAccessFile> file;
  io::FileOptions direct;
  direct.direct = true;
  bool is_direct = true;
  if (!fs_->NewRandomAccessFile(item.path, direct, &file).ok()) {
    is_direct = false;  // e.g. tmpfs: no O_DIRECT
    Status s = fs_->NewRandomAccessFile(item.path, io::FileOptions{}, &file);
    if (!s.ok()) return finish(std::move(s));
  }
  // Past the last data extent the file reads as zeros (fallocated, never
  // written): zeros end a segment's data and cannot hold a record, so the
  // segment ends there for the scan. Not reading them matters: an O_DIRECT
  // read of an unwritten extent makes the kernel zero the pages on the CPU,
  // slower here than reading the disk.
  auto data_end = file->DataEnd();
  if (!data_end.ok()) return finish(data_end.status());
  const uint64_t want = std::min(*data_end, item.bytes_max);
  // O_DIRECT lengths are whole blocks; a read past the end comes back short.
  const uint64_t request_bytes = is_direct ? AlignUp(want, kDirectBlockBytes) : want;
  // Only this thread touches buf until the first bytes are published.
  slot->buf.Reserve(std::max<uint64_t>(request_bytes, 1));
  std::vector<io::ReadRequest> requests;
  uint64_t got = 0;
  for (uint64_t window = 0; window < request_bytes; window += kRecoveryWindowBytes) {
    requests.clear();
    const uint64_t window_end = std::min(request_bytes, window + kRecoveryWindowBytes);
    for (uint64_t at = window; at < window_end; at += kRecoveryReadBytes) {
      io::ReadRequest r;
      r.offset = at;
      r.length = static_cast<size_t>(std::min<uint64_t>(kRecoveryReadBytes, window_end - at));
      r.buffer = slot->buf.data() + at;
      requests.push_back(r);
    }
    Status s = file->ReadBatch(requests);
    if (!s.ok()) return finish(std::move(s));
    bool short_read = false;
    for (const io::ReadRequest& r : requests) {
      got += r.bytes_read;
      if (r.bytes_read < r.length) {
        short_read = true;  // end of file
        break;
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    slot->ready = std::min(got, want);
    if (stop_) return;
    if (short_read) break;
    cv_.notify_all();
  }
  finish(Status::Ok());
}

Status SegmentLoader::Read(size_t index, uint64_t want, std::string_view* data,
                           bool* complete) {
  STRATA_ASSERT(index < items_.size() && index >= current_);
  std::unique_lock<std::mutex> lock(mu_);
  if (index > current_) {
    STRATA_ASSERT(index == current_ + 1);
    slots_[current_ % 2].free = true;  // the scan is done with it
    current_ = index;
    cv_.notify_all();
  }
  Slot* slot = &slots_[index % 2];
  cv_.wait(lock, [&] { return slot->index == index && (slot->complete || slot->ready >= want); });
  STRATA_RETURN_IF_ERROR(slot->status);
  *data = std::string_view(slot->buf.data(), slot->ready);
  *complete = slot->complete;
  return Status::Ok();
}

}  // namespace strata::wal
