// The phase harness: runs N operations on T client threads, times each
// operation, samples throughput once per second, draws the progress bar and
// stops at --duration. Workloads (workloads.cc) supply the operation.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/driver/adapter.h"
#include "bench/driver/generators.h"
#include "bench/driver/histogram.h"
#include "strata/status.h"

namespace strata::bench {

// Everything one client thread owns.
struct ClientThread {
  ClientThread(uint32_t index, uint64_t seed, double compressibility, uint32_t value_size)
      : index(index), rng(seed), values(MixSeed(seed, 1), compressibility, value_size) {}

  uint32_t index;
  Random rng;
  ValueGenerator values;
  Histogram latency;
  std::string key;
  std::string value;
  std::unique_ptr<BenchCursor> cursor;  // readseq keeps one open
  uint64_t found = 0;
  uint64_t bytes = 0;               // key + value bytes read or written
  uint64_t user_bytes_written = 0;  // logical bytes written
  bool exhausted = false;           // the op has nothing more to do (readseq at the end)
  alignas(64) std::atomic<uint64_t> done{0};
};

struct PhaseSpec {
  std::string label;  // "rocksdb fillrandom", for the progress bar
  uint64_t ops = 0;
  uint32_t threads = 1;
  uint64_t seed = 0;  // per-phase; threads derive theirs from it
  double compressibility = 0.5;
  uint32_t value_size = 100;
  double duration_seconds = 0;  // 0: no limit
  bool progress = false;
  // Performs global op `op` on thread `t`. NotFound is an error here: reads
  // turn a missing key into found-accounting before returning.
  std::function<Status(ClientThread& t, uint64_t op)> op;
  // Optional: runs on its own thread until `stop` (readwhilewriting's writer).
  std::function<Status(const std::atomic<bool>& stop)> background;
};

struct PhaseOutcome {
  uint64_t ops = 0;
  uint64_t found = 0;
  uint64_t bytes = 0;
  uint64_t user_bytes_written = 0;
  double seconds = 0;
  Histogram latency;
  std::vector<double> ops_per_second;
  std::vector<std::pair<double, uint64_t>> progress;  // see WorkloadResult::progress
};

Result<PhaseOutcome> RunPhase(const PhaseSpec& spec);

}  // namespace strata::bench
