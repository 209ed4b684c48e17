// UringRing: one io_uring instance owned by one thread, and the submission
// loop the io_uring file system runs on it.
//
// Ownership: each thread that does io_uring I/O has its own ring
// (ThreadRing()), created lazily on first use and destroyed when the thread
// exits. Every call that uses the ring submits its requests and waits for all
// of their completions before it returns, so a ring never has requests in
// flight between calls. That is what makes a per-thread ring safe without
// locks: a RandomAccessFile read from eight threads uses eight rings, and a
// WritableFile handed from one thread to another simply uses the next
// thread's ring. A ring grows (is recreated, while idle) when a file system
// with a larger queue depth uses it. After fork() the child drops its copy
// of the forking thread's ring and makes a fresh one on first use.
//
// Thread safety: a UringRing is used only by the thread that owns it.
#pragma once

#include <liburing.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/assert.h"
#include "strata/status.h"

namespace strata::io {

// Largest io_uring queue depth a UringFileSystem accepts.
inline constexpr unsigned kUringQueueDepthMax = 4096;
// Retries of one request after EAGAIN/EINTR before it is reported as an IOError.
inline constexpr unsigned kTransientRetriesMax = 64;
// RunWindow refills the ring in groups of queue depth / this.
inline constexpr unsigned kRefillGroupDivisor = 4;
// io_uring_enter calls in a row that may fail with EINTR/EAGAIN/EBUSY.
inline constexpr unsigned kEnterRetriesMax = 1000;

class UringRing {
 public:
  // Sets up a ring with `entries` submission slots; the Status says why not.
  static Result<std::unique_ptr<UringRing>> Create(unsigned entries);
  ~UringRing();
  UringRing(const UringRing&) = delete;
  UringRing& operator=(const UringRing&) = delete;

  io_uring* ring() { return &ring_; }
  unsigned entries() const { return entries_; }
  // Scratch space for request indices to resubmit; capacity entries().
  std::vector<size_t>& resubmit() { return resubmit_; }
  // True after SubmitAndWait failed; ThreadRing then replaces the ring.
  bool broken() const { return broken_; }

  // Submits what is queued and waits for at least `wait_count` completions,
  // retrying EINTR/EAGAIN/EBUSY. Any other failure leaves the ring unusable:
  // in-flight requests are drained first so that no buffer is written after
  // the caller returns.
  Status SubmitAndWait(unsigned wait_count, unsigned in_flight);

 private:
  explicit UringRing(unsigned entries) : entries_(entries) {}

  io_uring ring_{};
  unsigned entries_;
  bool broken_ = false;
  std::vector<size_t> resubmit_;
};

// The calling thread's ring, with at least `entries` slots (created or grown
// on demand). IOError if io_uring_queue_init fails.
Result<UringRing*> ThreadRing(unsigned entries);

// Whether io_uring works in this process (probed once). When it does not, the
// first call prints one line to stderr saying that strata uses the posix path.
bool UringProbe();

// Completion handling for RunWindow.
enum class OpOutcome { kDone, kResubmit };

// RunWindow(ring, count, depth, ops) runs `count` independent requests with at
// most `depth` in flight, refilling the ring as completions arrive (in groups
// of depth / kRefillGroupDivisor) so the device sees a real queue depth. `ops` provides
//   void Prep(io_uring_sqe* sqe, size_t index)     fill in request `index`
//   OpOutcome Complete(size_t index, int32_t res)  record a completion
// Complete returns kResubmit for short transfers and transient errors; Prep
// is then called again for the same index (the op tracks its progress).
// Returns a non-ok Status only if the ring itself failed; request errors are
// the ops' business.
template <typename Ops>
Status RunWindow(UringRing* ring, size_t count, unsigned depth, Ops& ops) {
  STRATA_ASSERT(depth > 0);
  STRATA_ASSERT(depth <= ring->entries());
  std::vector<size_t>& resubmit = ring->resubmit();
  resubmit.clear();
  size_t next = 0;
  unsigned in_flight = 0;
  while (next < count || in_flight > 0 || !resubmit.empty()) {
    while (in_flight < depth && (!resubmit.empty() || next < count)) {
      size_t index;
      if (!resubmit.empty()) {
        index = resubmit.back();
        resubmit.pop_back();
      } else {
        index = next++;
        if (!ops.Wanted(index)) continue;
      }
      io_uring_sqe* sqe = io_uring_get_sqe(ring->ring());
      // The SQ is empty after every submit and in_flight < depth <= entries.
      STRATA_ASSERT(sqe != nullptr);
      ops.Prep(sqe, index);
      io_uring_sqe_set_data64(sqe, index);
      ++in_flight;
    }
    if (in_flight == 0) continue;  // every remaining request was skipped
    // While requests remain, wait until a group of slots is free before
    // refilling, so that each io_uring_enter carries a group of reads (one
    // block-layer plug and one device doorbell) rather than one; on a VM's
    // virtio disk a doorbell per read costs more than the slightly lower
    // average depth. At the tail, reap as completions come.
    const unsigned refill_group = std::max(1u, depth / kRefillGroupDivisor);
    const bool more = next < count || !resubmit.empty();
    unsigned wait_count = 1;
    if (more && in_flight + refill_group > depth) wait_count = in_flight + refill_group - depth;
    STRATA_RETURN_IF_ERROR(ring->SubmitAndWait(wait_count, in_flight));
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(ring->ring(), head, cqe) {
      const size_t index = static_cast<size_t>(io_uring_cqe_get_data64(cqe));
      STRATA_ASSERT(index < count);
      --in_flight;
      ++seen;
      if (ops.Complete(index, cqe->res) == OpOutcome::kResubmit) resubmit.push_back(index);
    }
    io_uring_cq_advance(ring->ring(), seen);
  }
  return Status::Ok();
}

// Whether a failed request may simply be submitted again.
inline bool TransientError(int32_t res) { return res == -EAGAIN || res == -EINTR; }

}  // namespace strata::io
