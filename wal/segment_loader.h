// SegmentLoader: streams whole segments into memory, in order, on a reader
// thread, while the caller scans them. The reader publishes each window of a
// segment as it lands, so the scan follows the reads inside a segment instead
// of waiting for the whole file, and the reader goes on to the next segment as
// soon as the scan has moved past the previous one: recovery takes about
// max(read time, scan time), not their sum.
// Reads use O_DIRECT (no page-cache copy) with batched requests, and fall back
// to buffered reads where O_DIRECT is refused.
// One owner (the scanning thread); the reader thread is internal.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "io/file_system.h"
#include "core/thread_annotations.h"
#include "wal/buffer.h"

namespace strata::wal {

class SegmentLoader {
 public:
  struct Item {
    std::string path;
    uint64_t bytes_max = 0;  // read at most this much (the rest is not needed)
  };
  // Starts reading items[0] at once.
  SegmentLoader(io::FileSystem* fs, std::vector<Item> items);
  ~SegmentLoader();
  SegmentLoader(const SegmentLoader&) = delete;
  SegmentLoader& operator=(const SegmentLoader&) = delete;

  // Waits until item `index` has at least `want` readable bytes or is read
  // completely, then sets *data to its readable prefix and *complete. Items
  // are taken in order: asking for a later item releases the earlier one,
  // whose views must no longer be used. A view stays valid (and its bytes
  // unchanged) until then; later calls for the same item only extend it.
  Status Read(size_t index, uint64_t want, std::string_view* data, bool* complete);

 private:
  struct Slot {
    AlignedBytes buf;
    size_t index = SIZE_MAX;  // item being read into buf (SIZE_MAX: none yet)
    uint64_t ready = 0;       // readable bytes of that item
    bool complete = false;
    bool free = true;  // the scan is done with it; the reader may reuse it
    Status status;
  };
  void ReaderLoop();
  // Reads item `index` into `slot`, publishing each window under mu_.
  void Load(size_t index, Slot* slot);

  io::FileSystem* const fs_;
  const std::vector<Item> items_;
  // mu_ guards the slots' hand-off between the reader thread and the scan
  // (a slot's buf bytes below its published `ready` are read without it:
  // the reader never rewrites them until the scan frees the slot).
  std::mutex mu_;
  std::condition_variable cv_;  // waited on with mu_
  Slot slots_[2] STRATA_GUARDED_BY(mu_);  // item i lives in slots_[i % 2]
  size_t current_ STRATA_GUARDED_BY(mu_) = 0;  // the item the scan reads
  bool stop_ STRATA_GUARDED_BY(mu_) = false;
  std::thread reader_;
};

}  // namespace strata::wal
