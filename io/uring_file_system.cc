#include "io/uring_file_system.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>

#include "core/assert.h"
#include "io/uring_ring.h"

namespace strata::io {

namespace {

// One SQE never asks for more than this; io_uring's length field is 32 bits
// and the kernel caps a transfer near 2 GiB anyway. Longer requests continue
// as if the transfer had been short.
constexpr size_t kSqeBytesMax = size_t{1} << 30;
// Writes linked into one chain; longer WriteAtAndSync calls are split.
constexpr size_t kChainWritesMax = 32;
// Tag of the sync request in a chain (write requests carry their index).
constexpr uint64_t kSyncTag = ~uint64_t{0};

unsigned SqeBytes(size_t remaining) {
  return static_cast<unsigned>(std::min(remaining, kSqeBytesMax));
}

Result<uint64_t> FdSize(const std::string& path, int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return PosixError(path, "fstat", errno);
  return static_cast<uint64_t>(st.st_size);
}

// RunWindow ops for a batch of reads. Progress lives in each request's
// bytes_read, so a short read resubmits only the remainder.
class ReadOps {
 public:
  ReadOps(std::span<ReadRequest> requests, int fd, bool direct, const std::string& path)
      : requests_(requests), fd_(fd), direct_(direct), path_(path) {}

  bool Wanted(size_t index) const {
    const ReadRequest& req = requests_[index];
    return req.status.ok() && req.length > 0;
  }
  void Prep(io_uring_sqe* sqe, size_t index) {
    ReadRequest& req = requests_[index];
    io_uring_prep_read(sqe, fd_, req.buffer + req.bytes_read, SqeBytes(req.length - req.bytes_read),
                       req.offset + req.bytes_read);
  }
  OpOutcome Complete(size_t index, int32_t res) {
    ReadRequest& req = requests_[index];
    if (res < 0) {
      if (TransientError(res) && transient_retries_++ < kTransientRetriesMax) {
        return OpOutcome::kResubmit;
      }
      req.status = PosixError(path_, "read @ " + std::to_string(req.offset + req.bytes_read), -res);
      return OpOutcome::kDone;
    }
    if (res == 0) return OpOutcome::kDone;  // end of file
    req.bytes_read += static_cast<size_t>(res);
    if (req.bytes_read == req.length) return OpOutcome::kDone;
    // A direct read comes back short only at end of file; asking again at
    // the unaligned end would be EINVAL rather than 0.
    if (direct_ && (req.offset + req.bytes_read) % kDirectIoAlignment != 0) return OpOutcome::kDone;
    return OpOutcome::kResubmit;
  }

 private:
  std::span<ReadRequest> requests_;
  int fd_;
  bool direct_;
  const std::string& path_;
  unsigned transient_retries_ = 0;
};

class UringRandomAccessFile final : public RandomAccessFile {
 public:
  UringRandomAccessFile(std::string path, int fd, bool direct, unsigned queue_depth)
      : path_(std::move(path)), fd_(fd), direct_(direct), queue_depth_(queue_depth) {}
  ~UringRandomAccessFile() override { ::close(fd_); }

  // A buffered read is first tried as preadv2(RWF_NOWAIT), which the kernel
  // serves only from the page cache and never blocks for; whatever that
  // cannot give (a miss, or the part after a partially cached range) goes
  // through io_uring. Direct reads go straight to io_uring. See "Single
  // buffered reads" in io/README.md for why and the measurements.
  Status Read(uint64_t offset, size_t n, char* buf, size_t* bytes_read) const override {
    size_t cached = 0;
    if (!direct_ && n > 0 && ReadCached(offset, n, buf, &cached)) {
      *bytes_read = cached;
      return Status::Ok();
    }
    ReadRequest req{.offset = offset + cached, .length = n - cached, .buffer = buf + cached};
    Status s = ReadBatch(std::span<ReadRequest>(&req, 1));
    *bytes_read = cached + req.bytes_read;
    return s;
  }

  Status ReadBatch(std::span<ReadRequest> requests) const override {
    for (ReadRequest& req : requests) {
      req.bytes_read = 0;
      req.status = CheckDirectIo(direct_, path_, req.offset, req.length, req.buffer);
    }
    Result<UringRing*> ring = ThreadRing(queue_depth_);
    Status ring_status = ring.ok() ? Status::Ok() : ring.status().WithContext(path_);
    if (ring.ok()) {
      ReadOps ops(requests, fd_, direct_, path_);
      ring_status = RunWindow(*ring, requests.size(), queue_depth_, ops);
    }
    Status first;
    for (ReadRequest& req : requests) {
      // A broken ring leaves requests half done: report it on each of them.
      if (!ring_status.ok() && req.status.ok() && req.bytes_read < req.length) {
        req.status = ring_status;
      }
      if (!req.status.ok() && first.ok()) first = req.status;
    }
    return first;
  }

  Result<uint64_t> Size() const override { return FdSize(path_, fd_); }
  Result<uint64_t> DataEnd() const override { return FdDataEnd(path_, fd_); }
  const std::string& path() const override { return path_; }

 private:
  // Copies what the page cache holds of [offset, offset + n) into buf
  // without blocking; *done is the bytes copied. True when the read is
  // finished (all n bytes, or end of file reached). False when the rest must
  // wait for the device (EAGAIN) or failed: io_uring then reads the rest and
  // reports any error with its usual message.
  bool ReadCached(uint64_t offset, size_t n, char* buf, size_t* done) const {
    *done = 0;
    while (*done < n) {
      iovec iov{.iov_base = buf + *done, .iov_len = n - *done};
      const ssize_t r = ::preadv2(fd_, &iov, 1, static_cast<off_t>(offset + *done), RWF_NOWAIT);
      if (r < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      if (r == 0) return true;  // end of file
      *done += static_cast<size_t>(r);
    }
    return true;
  }

  std::string path_;
  int fd_;
  bool direct_;
  unsigned queue_depth_;
};

// One write of a chain and how much of it has reached the kernel.
struct WritePart {
  uint64_t offset = 0;
  std::string_view data;
  size_t done = 0;
  bool complete() const { return done == data.size(); }
};

enum class SyncKind { kNone, kData, kAll };

// Writes and syncs through the calling thread's ring. See WritableFile in
// io/file_system.h for the contract; metadata calls and the failed-file rule
// come from FdWritableFile, shared with the posix file.
class UringWritableFile final : public FdWritableFile {
 public:
  UringWritableFile(std::string path, int fd, bool direct, uint64_t size, unsigned queue_depth)
      : FdWritableFile(std::move(path), fd, direct, size), queue_depth_(queue_depth) {}

  // A buffered write without a sync is a copy into the page cache. io_uring
  // cannot do that inline on ext4 (no non-blocking buffered writes) and hands
  // it to a kernel worker thread, two context switches per call: on 2 busy
  // cores that made each unsynced WAL write several times slower than
  // pwrite(2), which copies on the calling thread. Direct writes, and writes
  // linked with a sync, stay on the ring.
  Status WriteAt(uint64_t offset, std::string_view data) override {
    if (!direct()) return PwriteAt(offset, data);
    const std::pair<uint64_t, std::string_view> write(offset, data);
    return WriteAndSync(std::span(&write, 1), SyncKind::kNone);
  }
  Status WriteAtAndSync(std::span<const std::pair<uint64_t, std::string_view>> writes) override {
    return WriteAndSync(writes, SyncKind::kData);
  }
  Status Sync() override { return WriteAndSync({}, SyncKind::kData); }
  Status SyncAll() override { return WriteAndSync({}, SyncKind::kAll); }

 private:
  Status WriteAndSync(std::span<const std::pair<uint64_t, std::string_view>> writes, SyncKind sync);
  Status RunChain(UringRing* ring, std::span<WritePart> parts, SyncKind sync);
  Status SubmitChain(UringRing* ring, std::span<WritePart> parts, SyncKind sync, int32_t* sync_res);

  unsigned queue_depth_;
};

// Splits `writes` into chains of at most kChainWritesMax (and the ring's
// depth); the sync is linked behind the last chain when it fits, so the
// common case (a few writes + fdatasync) is one submission.
Status UringWritableFile::WriteAndSync(
    std::span<const std::pair<uint64_t, std::string_view>> writes, SyncKind sync) {
  STRATA_RETURN_IF_ERROR(CheckUsable());
  for (const auto& [offset, data] : writes) {
    STRATA_RETURN_IF_ERROR(CheckDirectIo(direct(), path(), offset, data.size(), data.data()));
  }
  STRATA_ASSIGN_OR_RETURN(UringRing * ring, ThreadRing(queue_depth_));
  const size_t chain_max = std::min<size_t>(kChainWritesMax, queue_depth_);
  std::array<WritePart, kChainWritesMax> parts;
  size_t next = 0;
  bool synced = sync == SyncKind::kNone;
  while (next < writes.size()) {
    const size_t count = std::min(chain_max, writes.size() - next);
    for (size_t i = 0; i < count; ++i) {
      parts[i] = WritePart{.offset = writes[next + i].first, .data = writes[next + i].second};
    }
    next += count;
    const bool attach_sync = !synced && next == writes.size() && count + 1 <= queue_depth_;
    Status s = RunChain(ring, std::span(parts.data(), count), attach_sync ? sync : SyncKind::kNone);
    // Writes that completed extend the file even if a later one failed.
    for (size_t i = 0; i < count; ++i) {
      if (parts[i].complete()) GrowTo(parts[i].offset + parts[i].data.size());
    }
    STRATA_RETURN_IF_ERROR(s);
    synced = synced || attach_sync;
  }
  if (!synced) return RunChain(ring, {}, sync);
  return Status::Ok();
}

// Runs one linked chain (writes, then the sync) until every write is complete
// and the sync succeeded. A short write breaks the link: the kernel cancels
// what follows, and the remainder goes out again as a new chain.
Status UringWritableFile::RunChain(UringRing* ring, std::span<WritePart> parts, SyncKind sync) {
  unsigned stalled_rounds = 0;
  while (true) {
    size_t done_before = 0;
    for (const WritePart& part : parts) done_before += part.done;
    int32_t sync_res = 0;
    STRATA_RETURN_IF_ERROR(SubmitChain(ring, parts, sync, &sync_res));
    const bool writes_complete =
        std::all_of(parts.begin(), parts.end(), [](const WritePart& p) { return p.complete(); });
    if (sync != SyncKind::kNone && sync_res < 0 && sync_res != -ECANCELED &&
        !TransientError(sync_res)) {
      // The kernel may have dropped the dirty pages: never retry.
      return MarkSyncFailed(sync == SyncKind::kAll, -sync_res);
    }
    if (writes_complete && (sync == SyncKind::kNone || sync_res == 0)) return Status::Ok();
    size_t done_after = 0;
    for (const WritePart& part : parts) done_after += part.done;
    if (done_after == done_before && ++stalled_rounds > kTransientRetriesMax) {
      return Status::IOError(path() + ": io_uring write chain made no progress after " +
                             std::to_string(kTransientRetriesMax) + " retries");
    }
  }
}

// Submits the incomplete parts and the sync as one linked chain and reaps
// every completion. Hard write errors are returned; short, cancelled and
// transiently failed writes are left incomplete for the caller to resubmit.
Status UringWritableFile::SubmitChain(UringRing* ring, std::span<WritePart> parts, SyncKind sync,
                                      int32_t* sync_res) {
  unsigned queued = 0;
  io_uring_sqe* last = nullptr;
  for (size_t i = 0; i < parts.size(); ++i) {
    WritePart& part = parts[i];
    if (part.complete()) continue;
    last = io_uring_get_sqe(ring->ring());
    STRATA_ASSERT(last != nullptr);  // the chain fits: parts + 1 <= queue depth <= entries
    io_uring_prep_write(last, fd(), part.data.data() + part.done,
                        SqeBytes(part.data.size() - part.done), part.offset + part.done);
    io_uring_sqe_set_data64(last, i);
    io_uring_sqe_set_flags(last, IOSQE_IO_LINK);
    ++queued;
  }
  if (sync != SyncKind::kNone) {
    last = io_uring_get_sqe(ring->ring());
    STRATA_ASSERT(last != nullptr);
    io_uring_prep_fsync(last, fd(), sync == SyncKind::kData ? IORING_FSYNC_DATASYNC : 0);
    io_uring_sqe_set_data64(last, kSyncTag);
    ++queued;
  }
  // The chain ends at the last request.
  if (last != nullptr) last->flags &= static_cast<uint8_t>(~IOSQE_IO_LINK);
  Status first_error;
  while (queued > 0) {
    STRATA_RETURN_IF_ERROR(ring->SubmitAndWait(queued, queued));
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(ring->ring(), head, cqe) {
      ++seen;
      const uint64_t tag = io_uring_cqe_get_data64(cqe);
      const int32_t res = cqe->res;
      if (tag == kSyncTag) {
        *sync_res = res;
        continue;
      }
      STRATA_ASSERT(tag < parts.size());
      WritePart& part = parts[tag];
      if (res > 0) {
        part.done += static_cast<size_t>(res);
      } else if (res < 0 && res != -ECANCELED && !TransientError(res) && first_error.ok()) {
        first_error = PosixError(path(), "write @ " + std::to_string(part.offset + part.done), -res);
      }
    }
    io_uring_cq_advance(ring->ring(), seen);
    queued -= seen;
  }
  return first_error;
}

}  // namespace

UringFileSystem::UringFileSystem(const UringOptions& options) : options_(options) {
  STRATA_ASSERT(options_.queue_depth >= 1);
  STRATA_ASSERT(options_.queue_depth <= kUringQueueDepthMax);
}

Status UringFileSystem::NewWritableFile(const std::string& path, const FileOptions& options,
                                        std::unique_ptr<WritableFile>* file) {
  STRATA_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_RDWR | O_CREAT | O_TRUNC, options));
  *file = std::make_unique<UringWritableFile>(path, fd, options.direct, 0, options_.queue_depth);
  return Status::Ok();
}

Status UringFileSystem::ReopenWritableFile(const std::string& path, const FileOptions& options,
                                           std::unique_ptr<WritableFile>* file) {
  STRATA_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_RDWR, options));
  Result<uint64_t> size = FdSize(path, fd);
  if (!size.ok()) {
    ::close(fd);
    return size.status();
  }
  *file =
      std::make_unique<UringWritableFile>(path, fd, options.direct, *size, options_.queue_depth);
  return Status::Ok();
}

Status UringFileSystem::NewRandomAccessFile(const std::string& path, const FileOptions& options,
                                            std::unique_ptr<RandomAccessFile>* file) {
  STRATA_ASSIGN_OR_RETURN(int fd, OpenFd(path, O_RDONLY, options));
  *file = std::make_unique<UringRandomAccessFile>(path, fd, options.direct, options_.queue_depth);
  return Status::Ok();
}

bool UringAvailable() { return UringProbe(); }

std::shared_ptr<FileSystem> NewUringFileSystem(const UringOptions& options) {
  if (!UringAvailable()) return NewPosixFileSystem();
  return std::make_shared<UringFileSystem>(options);
}

}  // namespace strata::io
