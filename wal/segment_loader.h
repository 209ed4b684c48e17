// SegmentLoader: reads whole segments into memory one after another, reading
// the next on a helper thread while the caller scans the current one, so that
// recovery runs at the disk's sequential rate instead of disk + CPU.
// Reads use O_DIRECT (no page-cache copy) with large batched requests, and
// fall back to buffered reads where O_DIRECT is refused.
// One owner; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "io/file_system.h"
#include "wal/buffer.h"

namespace strata::wal {

class SegmentLoader {
 public:
  struct Item {
    std::string path;
    uint64_t bytes_max = 0;  // read at most this much (the rest is not needed)
  };
  SegmentLoader(io::FileSystem* fs, std::vector<Item> items);
  ~SegmentLoader();
  SegmentLoader(const SegmentLoader&) = delete;
  SegmentLoader& operator=(const SegmentLoader&) = delete;

  // Loads item `index` (items are taken in order, each once) and starts
  // reading the next. *data stays valid until the following call.
  Status Next(size_t index, std::string_view* data);

 private:
  struct Slot {
    AlignedBytes buf;
    uint64_t bytes = 0;
    Status status;
  };
  void Load(size_t index, Slot* slot);
  void Join();

  io::FileSystem* const fs_;
  const std::vector<Item> items_;
  Slot slots_[2];
  size_t prefetched_ = SIZE_MAX;  // index being read into slots_[prefetched_ % 2]
  std::thread prefetch_;
};

}  // namespace strata::wal
