#include "io/uring_ring.h"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

// GCC defines __SANITIZE_THREAD__ under -fsanitize=thread; older clang only
// answers __has_feature(thread_sanitizer).
#if defined(__SANITIZE_THREAD__)
#define STRATA_IO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STRATA_IO_TSAN 1
#endif
#endif
#if defined(STRATA_IO_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace strata::io {

namespace {

// ThreadSanitizer and ring memory. liburing maps a ring's SQ/CQ rings and
// SQE array with raw mmap/munmap syscalls, which ThreadSanitizer does not
// intercept, so it never learns that a ring's memory was unmapped. When a
// thread exits (its ring dies) and a later thread's new ring is mapped at
// the same address, ThreadSanitizer compares the new thread's SQE writes
// with the dead thread's and reports a data race on "anon_inode:[io_uring]"
// (seen in lsm_db_test: a finished flush thread vs the WAL preparer thread).
// There is no race: munmap returns before the later mmap can reuse the
// address. These two calls state exactly that ordering: destroying a ring
// (release, before its munmap) happens-before using any ring mapped later
// (acquire, after its mmap). The only edges they add run from a ring's
// teardown to a later ring's setup, so two threads racing on one live ring
// (which strata never does) would still be reported. The kernel's CQE
// writes are invisible to ThreadSanitizer and need nothing.
#if defined(STRATA_IO_TSAN)
char ring_memory_order;  // the address both calls name; never read
void RingMemoryUnmapped() { __tsan_release(&ring_memory_order); }
void RingMemoryMapped() { __tsan_acquire(&ring_memory_order); }
#else
void RingMemoryUnmapped() {}
void RingMemoryMapped() {}
#endif

// io_uring_queue_exit, ordered before later ring creation for ThreadSanitizer.
void ExitRing(io_uring* ring) {
  RingMemoryUnmapped();
  io_uring_queue_exit(ring);
}

std::string ErrnoText(int err) { return std::strerror(err); }

// Sets up `ring` with `entries` slots. A ring is only ever used by the thread
// that made it, so the kernel may skip cross-thread synchronisation
// (SINGLE_ISSUER) and run completion work when that thread waits
// (DEFER_TASKRUN). Kernels older than 6.1 reject those flags: retry without.
int InitRing(unsigned entries, io_uring* ring) {
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int r = io_uring_queue_init_params(entries, ring, &params);
  if (r == -EINVAL) {
    params = io_uring_params{};
    r = io_uring_queue_init_params(entries, ring, &params);
  }
  // After the mmap: only then is every munmap that freed this address
  // (and so every release before it) in the past.
  if (r == 0) RingMemoryMapped();
  return r;
}

// The calling thread's ring; null until first use.
thread_local std::unique_ptr<UringRing> tls_ring;

// fork() copies the forking thread's ring into the child, sharing the
// kernel's queues with the parent. The child must never use it: drop the
// child's mapping and descriptor so that the next use makes a fresh ring.
void DropRingInChild() { tls_ring.reset(); }

void RegisterForkHandler() {
  static std::once_flag once;
  std::call_once(once, [] { ::pthread_atfork(nullptr, nullptr, DropRingInChild); });
}

}  // namespace

Result<std::unique_ptr<UringRing>> UringRing::Create(unsigned entries) {
  STRATA_ASSERT(entries > 0);
  STRATA_ASSERT(entries <= kUringQueueDepthMax);
  std::unique_ptr<UringRing> made(new UringRing(entries));
  int r = InitRing(entries, &made->ring_);
  if (r < 0) {
    made->entries_ = 0;  // nothing to tear down
    return Status::IOError("io_uring_queue_init(" + std::to_string(entries) +
                           "): " + ErrnoText(-r));
  }
  made->resubmit_.reserve(entries);
  return made;
}

UringRing::~UringRing() {
  if (entries_ > 0) ExitRing(&ring_);
}

Status UringRing::SubmitAndWait(unsigned wait_count, unsigned in_flight) {
  int r = 0;
  for (unsigned attempt = 0; attempt < kEnterRetriesMax; ++attempt) {
    r = io_uring_submit_and_wait(&ring_, wait_count);
    if (r >= 0) return Status::Ok();
    // Unconsumed SQEs stay queued and go out with the next call.
    if (r != -EINTR && r != -EAGAIN && r != -EBUSY) break;
  }
  broken_ = true;
  // Requests already in the kernel still point at the
  // callers' buffers: wait for every one of them before reporting the error,
  // so that nothing is written into memory the caller may free.
  // SQEs the kernel never consumed stay in the SQ and never complete; they
  // die with the ring.
  const unsigned in_kernel = in_flight - std::min(in_flight, io_uring_sq_ready(&ring_));
  unsigned drained = 0;
  unsigned waits = 0;
  while (drained < in_kernel) {
    io_uring_cqe* cqe = nullptr;
    int w = io_uring_wait_cqe(&ring_, &cqe);
    if (w == -EINTR || w == -EAGAIN) {
      STRATA_ASSERT(++waits < kEnterRetriesMax);
      continue;
    }
    // We cannot tell when the kernel is done with the buffers: stop here.
    STRATA_ASSERT(w == 0);
    io_uring_cqe_seen(&ring_, cqe);
    ++drained;
  }
  return Status::IOError("io_uring_submit_and_wait: " + ErrnoText(-r));
}

Result<UringRing*> ThreadRing(unsigned entries) {
  if (tls_ring != nullptr && !tls_ring->broken() && tls_ring->entries() >= entries) {
    return tls_ring.get();
  }
  RegisterForkHandler();
  // The old ring (if any) is idle between calls, so it can be replaced.
  // A grown ring keeps the larger size for every later caller on this thread.
  tls_ring.reset();
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<UringRing> made, UringRing::Create(entries));
  tls_ring = std::move(made);
  return tls_ring.get();
}

bool UringProbe() {
  static const bool available = [] {
    io_uring ring{};
    int r = InitRing(/*entries=*/4, &ring);
    if (r < 0) {
      std::fprintf(stderr,
                   "strata: io_uring unavailable (io_uring_queue_init: %s); "
                   "using the posix io path\n",
                   std::strerror(-r));
      return false;
    }
    ExitRing(&ring);
    return true;
  }();
  return available;
}

}  // namespace strata::io
