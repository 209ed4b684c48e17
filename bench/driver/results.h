// What one workload on one engine measured, the figures derived from it, and
// the text form a child process hands its results to the parent in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench/driver/histogram.h"
#include "strata/status.h"

namespace strata::bench {

struct WorkloadResult {
  std::string engine;
  std::string workload;
  uint64_t ops = 0;        // operations completed (entries, for readseq)
  uint64_t found = 0;      // reads that found their key
  uint64_t bytes = 0;      // key + value bytes read or written
  double seconds = 0;      // wall time
  Histogram latency;       // per operation, nanoseconds
  std::vector<double> ops_per_second;  // throughput, one point per second
  // (seconds since the start, operations done): (0, 0), then about every
  // 100 ms, then the end; what the charts re-bucket to any resolution.
  std::vector<std::pair<double, uint64_t>> progress;
  uint64_t user_bytes_written = 0;     // logical bytes (keys + values) written
  uint64_t io_write_bytes = 0;         // /proc/self/io write_bytes during the workload
  // /proc/self/io wchar during the workload; unset for strata's engines,
  // whose io_uring writes do not pass through write system calls.
  std::optional<uint64_t> syscall_write_bytes;
  std::optional<uint64_t> engine_user_bytes;    // engine counters, same period
  std::optional<uint64_t> engine_device_bytes;
  uint64_t disk_bytes = 0;   // allocated bytes of the database directory after
  uint64_t live_bytes = 0;   // logical bytes of the live keys after
  uint64_t peak_rss_bytes = 0;
  std::optional<double> modeled_seconds;  // device model time, strata engines only
  // Bytes the modeled device wrote (SSD: pages programmed * page size, so
  // partly written pages count whole; HDD: bytes written).
  std::optional<uint64_t> modeled_write_bytes;

  double ops_per_sec() const { return seconds > 0 ? ops / seconds : 0; }
  double mb_per_sec() const { return seconds > 0 ? bytes / seconds / 1048576.0 : 0; }
  // Device bytes per logical byte written (kernel's count).
  std::optional<double> write_amp_io() const;
  // Bytes handed to write system calls per logical byte written.
  std::optional<double> write_amp_syscall() const;
  // The engine's own count of device bytes per user byte.
  std::optional<double> write_amp_engine() const;
  std::optional<double> space_amp() const;
  // Modeled device bytes written per logical byte written.
  std::optional<double> write_amp_device_model() const;
};

struct EngineRun {
  std::string engine;
  std::string settings;  // the adapter's Describe()
  std::string error;     // non-empty when the engine failed or was skipped
  std::vector<WorkloadResult> results;
  // Profile x device matrix runs only (set by the parent, not encoded): the
  // profile and device model of this cell.
  std::string matrix_profile;
  std::string matrix_device;
};

// One engine's results as text (tab-separated lines) and back.
std::string EncodeEngineRun(const EngineRun& run);
Result<EngineRun> DecodeEngineRun(std::string_view text);

}  // namespace strata::bench
