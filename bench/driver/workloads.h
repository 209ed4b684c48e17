// The workloads: db_bench-style phases and YCSB mixes, run on one BenchDb by
// --threads client threads, each timing every operation into its own
// histogram, while a reporter thread samples throughput once per second,
// draws the progress bar and enforces --duration.
//
// Op i of a phase of N ops goes to thread floor(i*T/N); every random choice
// comes from a generator seeded by (--seed, workload, thread), so the same
// flags issue the same operations on every engine.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/driver/adapter.h"
#include "bench/driver/flags.h"
#include "bench/driver/results.h"

namespace strata::bench {

// Which key numbers are live, so space amplification can divide by the
// logical bytes actually stored; and how many YCSB records exist.
// Thread safety: all methods may be called concurrently.
class KeySpace {
 public:
  explicit KeySpace(uint64_t capacity);
  void MarkLive(uint64_t n);
  void MarkDead(uint64_t n);
  uint64_t live_count() const { return live_.load(std::memory_order_relaxed); }
  uint64_t capacity() const { return capacity_; }

  // YCSB records are key numbers [0, records()); inserts append.
  uint64_t records() const { return records_.load(std::memory_order_acquire); }
  void RaiseRecords(uint64_t n);
  uint64_t NextInsert() { return records_.fetch_add(1, std::memory_order_acq_rel); }

 private:
  uint64_t capacity_;
  std::unique_ptr<std::atomic<uint64_t>[]> words_;
  std::atomic<uint64_t> live_{0};
  std::atomic<uint64_t> records_{0};
};

struct WorkloadContext {
  const BenchConfig* config = nullptr;
  std::string engine;
  BenchDb* db = nullptr;
  KeySpace* keys = nullptr;
  bool progress = false;  // draw a progress bar on stderr
};

// Runs one named workload (see KnownBenchmarks()) and measures it.
Result<WorkloadResult> RunWorkload(const std::string& name, WorkloadContext* context);

// The key capacity a run of `config` needs (the key space plus every insert
// YCSB workloads may make).
uint64_t KeyCapacity(const BenchConfig& config);

}  // namespace strata::bench
