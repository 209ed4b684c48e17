// Scrubbing: reading files back at a bounded byte rate to find silent media
// corruption (disks rot) before a read needs the bytes.
//
// ByteRateLimiter paces reads to a byte rate; RateLimitedFile charges every
// read of a RandomAccessFile to one. BackgroundScrubber runs an engine's scrub
// pass (Options::scrub_bytes_per_second) on its own thread, again and again,
// and reports each Corruption it finds through Options::on_scrub_corruption,
// the info log and its counters (EngineStats::properties "scrub.*"). The
// engine supplies the pass: which files are immutable and how to verify them
// is the engine's business (lsm/scrub.h, btree/scrub.h); this file knows
// nothing about keys.
//
// Threading: ByteRateLimiter and BackgroundScrubber are thread safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "io/file_system.h"
#include "strata/options.h"
#include "strata/status.h"

namespace strata::io {

// Lets `bytes_per_second` bytes through per second on average. Acquire(n)
// books n bytes and blocks until the booked bytes fit the rate since the
// limiter started (a read may go out in a burst of up to one call's bytes).
class ByteRateLimiter {
 public:
  // REQUIRES: bytes_per_second > 0.
  explicit ByteRateLimiter(uint64_t bytes_per_second);

  // Blocks until `bytes` more may be read. Busy ("scrub stopped") once Stop
  // was called, at once or while waiting.
  Status Acquire(uint64_t bytes);
  // Wakes every waiter and makes every later Acquire fail.
  void Stop();
  // Waits up to `duration` or until Stop; false once stopped.
  bool WaitFor(std::chrono::microseconds duration);

  uint64_t bytes_per_second() const { return bytes_per_second_; }
  uint64_t bytes_acquired() const { return bytes_acquired_.load(); }
  // Time the rate demanded so far for the bytes acquired (bytes / rate).
  std::chrono::microseconds booked_time() const;

 private:
  const uint64_t bytes_per_second_;
  const std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;  // guarded by mu_
  std::atomic<uint64_t> bytes_acquired_{0};
};

// A RandomAccessFile that charges every read (each request of a ReadBatch
// too) to a limiter before passing it on. Owns `base`; the limiter must
// outlive it.
class RateLimitedFile final : public RandomAccessFile {
 public:
  RateLimitedFile(std::unique_ptr<RandomAccessFile> base, ByteRateLimiter* limiter)
      : base_(std::move(base)), limiter_(limiter) {}
  Status Read(uint64_t offset, size_t n, char* buf, size_t* bytes_read) const override;
  Result<uint64_t> Size() const override { return base_->Size(); }
  Result<uint64_t> DataEnd() const override { return base_->DataEnd(); }
  const std::string& path() const override { return base_->path(); }

 private:
  std::unique_ptr<RandomAccessFile> base_;
  ByteRateLimiter* const limiter_;
};

// Opens `path` without O_DIRECT (scrubs read at unaligned offsets) and wraps
// it in a RateLimitedFile charging `limiter`.
Status OpenRateLimitedFile(FileSystem* fs, const std::string& path, ByteRateLimiter* limiter,
                           std::unique_ptr<RandomAccessFile>* file);

// What a scrub pass found, counted across passes.
struct ScrubCounters {
  uint64_t passes = 0;          // complete passes
  uint64_t files = 0;           // files verified
  uint64_t bytes = 0;           // bytes read
  uint64_t corruptions = 0;     // Corruption statuses reported
  uint64_t errors = 0;          // other errors (a file that vanished, an I/O error)
};

// One scrub pass: verifies every immutable file once, reading through
// `limiter` (RateLimitedFile), calling `report` for each Corruption it finds
// (one per file at most) and counting what it did into *counters (files;
// bytes come from the limiter). Returns Busy when the limiter was stopped,
// another error when the pass could not run (it is counted and retried).
using ScrubReportFn = std::function<void(const Status& corruption)>;
using ScrubPassFn = std::function<Status(ByteRateLimiter* limiter, const ScrubReportFn& report,
                                         ScrubCounters* counters)>;

// Runs `pass` on its own thread until Stop (or destruction): after each
// pass it waits kScrubPassPause (the rate limits the bytes of a pass, the
// pause the passes over an idle, small database), then starts again.
class BackgroundScrubber {
 public:
  static constexpr std::chrono::seconds kScrubPassPause{1};

  // Starts the thread. REQUIRES: options.scrub_bytes_per_second > 0.
  // `info_log` may be null; it must outlive the scrubber.
  BackgroundScrubber(const Options& options, InfoLogger* info_log, ScrubPassFn pass);
  ~BackgroundScrubber();
  BackgroundScrubber(const BackgroundScrubber&) = delete;
  BackgroundScrubber& operator=(const BackgroundScrubber&) = delete;

  // Stops the pass in flight at its next read and joins the thread.
  void Stop();
  ScrubCounters counters() const;
  // Appends "scrub.passes", "scrub.files", "scrub.bytes", "scrub.corruptions"
  // and "scrub.errors" to EngineStats::properties.
  void AppendProperties(std::vector<std::pair<std::string, uint64_t>>* properties) const;

 private:
  void Run();
  void Report(const Status& corruption);

  const std::function<void(const Status&)> callback_;
  InfoLogger* const info_log_;
  const ScrubPassFn pass_;
  ByteRateLimiter limiter_;
  mutable std::mutex mu_;
  ScrubCounters counters_;  // guarded by mu_ (bytes: from the limiter)
  std::thread thread_;
};

}  // namespace strata::io
