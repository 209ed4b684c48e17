// WriteRateLimiter: a token bucket for background writes
// (Options::background_write_bytes_per_second).
//
// Tokens (bytes) refill continuously at `bytes_per_second`; the bucket holds
// at most `burst` worth of them (kBurstDuration of the rate, at least one
// kChunkBytesMin chunk), so after an idle spell at most one burst goes out
// without waiting. Request(n) charges n bytes, in pieces no larger than the
// burst: when the bucket is short, the caller sleeps until its bytes are due
// (the schedule is kept as "the time the next byte is due", a virtual
// clock, so concurrent writers are served in request order and the long-run
// rate never exceeds the limit by more than one burst). The sleep granularity
// is the OS's (sub-millisecond); nothing is polled.
//
// Counters (for stats and tests): bytes requested, requests that had to
// wait, and the time the rate demanded of those waits.
//
// Threading: thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "io/file_system.h"

namespace strata::io {

class WriteRateLimiter {
 public:
  static constexpr std::chrono::milliseconds kBurstDuration{100};
  static constexpr uint64_t kChunkBytesMin = 4096;

  // REQUIRES: bytes_per_second > 0.
  explicit WriteRateLimiter(uint64_t bytes_per_second);

  // Blocks until `bytes` more may be written.
  void Request(uint64_t bytes);

  uint64_t bytes_per_second() const { return bytes_per_second_; }
  uint64_t burst_bytes() const { return burst_bytes_; }
  uint64_t bytes_requested() const { return bytes_requested_.load(std::memory_order_relaxed); }
  // Requests (pieces) that slept, and the total sleep the schedule asked for.
  uint64_t waits() const { return waits_.load(std::memory_order_relaxed); }
  uint64_t wait_micros() const { return wait_micros_.load(std::memory_order_relaxed); }

 private:
  using Clock = std::chrono::steady_clock;
  void RequestPiece(uint64_t bytes);

  const uint64_t bytes_per_second_;
  const uint64_t burst_bytes_;
  std::mutex mu_;
  Clock::time_point next_due_;  // guarded by mu_: when the next byte may go
  std::atomic<uint64_t> bytes_requested_{0};
  std::atomic<uint64_t> waits_{0};
  std::atomic<uint64_t> wait_micros_{0};
};

// A WritableFile that charges every Append / WriteAt to a limiter before
// passing it on. Owns `base`; the limiter must outlive it.
class RateLimitedWritableFile final : public WritableFile {
 public:
  RateLimitedWritableFile(std::unique_ptr<WritableFile> base,
                          std::shared_ptr<WriteRateLimiter> limiter)
      : base_(std::move(base)), limiter_(std::move(limiter)) {}
  Status Append(std::string_view data) override {
    limiter_->Request(data.size());
    return base_->Append(data);
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    limiter_->Request(data.size());
    return base_->WriteAt(offset, data);
  }
  Status WriteAtAndSync(
      std::span<const std::pair<uint64_t, std::string_view>> writes) override {
    for (const auto& w : writes) limiter_->Request(w.second.size());
    return base_->WriteAtAndSync(writes);
  }
  Status Sync() override { return base_->Sync(); }
  Status SyncAll() override { return base_->SyncAll(); }
  Status Allocate(uint64_t offset, uint64_t bytes) override {
    return base_->Allocate(offset, bytes);
  }
  Status Truncate(uint64_t size) override { return base_->Truncate(size); }
  Status Close() override { return base_->Close(); }
  uint64_t size() const override { return base_->size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  std::unique_ptr<WritableFile> base_;
  std::shared_ptr<WriteRateLimiter> limiter_;
};

}  // namespace strata::io
