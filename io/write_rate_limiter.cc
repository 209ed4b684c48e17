#include "io/write_rate_limiter.h"

#include <algorithm>
#include <thread>

#include "core/assert.h"

namespace strata::io {

WriteRateLimiter::WriteRateLimiter(uint64_t bytes_per_second)
    : bytes_per_second_(bytes_per_second),
      burst_bytes_(std::max<uint64_t>(
          kChunkBytesMin, bytes_per_second / (std::chrono::milliseconds(1000) / kBurstDuration))),
      next_due_(Clock::now()) {
  STRATA_ASSERT(bytes_per_second > 0);
}

void WriteRateLimiter::Request(uint64_t bytes) {
  bytes_requested_.fetch_add(bytes, std::memory_order_relaxed);
  while (bytes > 0) {
    const uint64_t piece = std::min(bytes, burst_bytes_);
    RequestPiece(piece);
    bytes -= piece;
  }
}

void WriteRateLimiter::RequestPiece(uint64_t bytes) {
  const auto cost = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(bytes) /
                                    static_cast<double>(bytes_per_second_)));
  const auto burst = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(burst_bytes_) /
                                    static_cast<double>(bytes_per_second_)));
  Clock::time_point start;
  const Clock::time_point now = Clock::now();
  {
    std::lock_guard lock(mu_);
    // next_due_: when every byte charged so far is paid for by the rate.
    // Idle time earns nothing beyond the burst allowance below.
    next_due_ = std::max(next_due_, now) + cost;
    start = next_due_ - burst;  // a piece may go while it is within one burst
  }
  if (start > now) {
    waits_.fetch_add(1, std::memory_order_relaxed);
    wait_micros_.fetch_add(
        static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(start - now).count()),
        std::memory_order_relaxed);
    std::this_thread::sleep_until(start);
  }
}

}  // namespace strata::io
