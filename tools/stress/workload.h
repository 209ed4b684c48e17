// The `strata stress` workload (db_stress-like): several threads of random
// Put, Delete, WriteBatch, Get/GetVersioned, iteration in both directions,
// snapshot reads and PutIfNewer over a bounded key space, every write
// recorded in an ExpectedState before it is issued and after it is
// acknowledged, every read checked against it.
//
// Values name their key and the generation of the write that stored them
// ("k00000042:000000000000002a:" plus padding derived from both), so a read
// tells exactly which write it came from, or that it came from none.
// A batch writes the keys of one aligned group of kBatchKeys with one
// generation, so a half-applied batch is visible after a crash.
//
// DeleteRange: a batch that deletes a range of whole batch groups (1 to 4)
// under their key locks, sometimes with a Put of one key of the range after
// it in the same batch; every covered key's pending state is a delete of the
// batch's generation (the Put's key: a put of it), set before the write is
// issued, so the verifier treats the range like any batch: all of it or none.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "strata/engine.h"
#include "tools/stress/expected_state.h"

namespace strata::stress {

inline constexpr uint64_t kBatchKeys = 4;

std::string KeyName(uint64_t key);
// The key index of a KeyName, or false for a key outside the format.
bool ParseKey(std::string_view name, uint64_t* key);
std::string ValueFor(uint64_t key, uint64_t generation);
// The generation of a value ValueFor(key, generation) made; false for any
// other bytes (another key's value, a truncated or garbled one).
bool ParseValue(std::string_view value, uint64_t key, uint64_t* generation);

// A check failed: Corruption "violation: <what>, key <k>: expected <...>,
// found <...>". Engine errors keep their own status.
Status Violation(std::string_view what);
bool IsViolation(const Status& s);

// After a restart: every key must read as its acked state or its pending
// one, no batch may be half applied, and a full scan must agree with the
// point reads. Then every pending write is resolved (it happened or it did
// not) so that the state again says exactly what the database holds.
Status VerifyAfterRestart(Engine* db, ExpectedState* state);

// After a simulated power cut (io::FaultFileSystem::DropUnsyncedData) of a
// workload with sync=false that recorded its order (WorkloadOptions::
// record_order): what survived must be a prefix of the writes in the
// engine's commit order. A key the log does not name reads as acked; a
// write batch landed on all its keys or on none.
// - One writer (the log's order is the commit order): there is one cut in
//   the log such that every key reads as its last logged write before the
//   cut (or its state before the log when it has none); the state is set to
//   the longest cut that fits. Violation "not a prefix after power loss ..."
//   names a key that no single cut explains.
// - Several writers: the commit order is known only where one write was
//   acknowledged before another was issued (tickets). Per key, the read
//   tells which of its writes surely survived and which surely did not;
//   violation "not a prefix after power loss: ..." names a write that surely
//   survived although one acknowledged before it was issued surely did not.
//   Each key's state is set to the latest of its writes that its read fits.
// Then the pending writes are cleared, the log is emptied and the full scan
// checked. With an empty log this is VerifyAfterRestart.
Status VerifyPrefixAfterPowerLoss(Engine* db, ExpectedState* state);

struct WorkloadOptions {
  int threads = 4;
  bool sync = false;
  uint64_t seed = 1;
  uint64_t ops_per_thread = 0;  // 0: until Stop()
  // Append every write to the state's order log before issuing it, with its
  // issue and ack tickets (for VerifyPrefixAfterPowerLoss); the run stops
  // when the log is full. Any number of threads.
  bool record_order = false;
  // Test hook, a deliberate bug: acknowledge a write whose status was an
  // error, so that tests see the verification catch it.
  bool test_ack_failed_writes = false;
};

struct WorkloadCounts {
  std::atomic<uint64_t> puts{0}, deletes{0}, batches{0}, delete_ranges{0}, put_if_newer{0},
      gets{0}, iterations{0}, snapshot_reads{0};
  uint64_t total() const;
};

class Workload {
 public:
  // `db` and `state` must outlive the Workload.
  Workload(Engine* db, ExpectedState* state, const WorkloadOptions& options);

  // Runs the threads until each did ops_per_thread ops, Stop() is called or
  // the first failure; returns that failure (a Violation, or the engine's
  // error), Ok if none. A write the engine failed stays pending in the state.
  Status Run();
  void Stop() { stop_.store(true); }
  const WorkloadCounts& counts() const { return counts_; }

 private:
  void Thread(int index);
  Status RunOne(std::mt19937_64& rng);
  Status WriteOne(uint64_t key, WriteKind kind);
  Status PutIfNewer(uint64_t key, std::mt19937_64& rng);
  Status Batch(uint64_t key, std::mt19937_64& rng);
  Status DeleteRange(uint64_t key, std::mt19937_64& rng);
  // One write's entries in the order log, and its tickets.
  struct Logged {
    ExpectedState* state = nullptr;  // null: the workload does not record
    std::optional<uint64_t> first;   // null while recording: the log is full
    uint64_t count = 0;
    // The log had no room: the run stops and the write is not issued.
    bool full() const { return state != nullptr && !first; }
    void Issued();     // just before the engine call
    void Acked();      // just after it returned Ok
    void Cancelled();  // it is known not to have happened
  };
  // Logs the writes of `keys` to `next` (record_order); when the log has no
  // room for all of them, the result is full() and the run stops.
  Logged LogWrites(const std::vector<uint64_t>& keys, const std::vector<KeyState>& next);
  // Whether a key of [first, end) has a failed write pending (see .cc).
  bool Unresolved(uint64_t first, uint64_t end) const;
  // The status a write's caller acts on (test_ack_failed_writes: Ok).
  Status WriteStatus(const Status& s) const;
  Status Read(uint64_t key, std::mt19937_64& rng);
  Status Iterate(uint64_t key, std::mt19937_64& rng);
  Status SnapshotRead(uint64_t key);
  void Fail(const Status& s);

  Engine* const db_;
  ExpectedState* const state_;
  const WorkloadOptions options_;
  const WriteOptions write_options_;
  std::unique_ptr<std::mutex[]> key_locks_;
  std::atomic<bool> stop_{false};
  std::mutex failure_mu_;
  Status failure_;  // guarded by failure_mu_
  WorkloadCounts counts_;
};

}  // namespace strata::stress
