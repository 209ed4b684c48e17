// ExpectedState: what `strata stress` knows the database must hold, in a file
// that survives the crash of the process writing it (RocksDB's db_stress
// expected state is the model).
//
// The file is mapped MAP_SHARED, so every store reaches the page cache at
// once: a SIGKILLed writer loses nothing it stored. Per key it keeps two
// words: `acked`, the state of the last write the engine acknowledged, and
// `pending`, the write in flight (0 when none). A writer stores pending
// before it calls the engine and, once acknowledged, stores acked and clears
// pending; after a crash the key must read as one of the two. A write batch
// gives all its keys the same generation, so a verifier can tell a half
// batch apart.
//
// A state word is `generation << 2 | kind` (kind: kPut, kDelete, kVersioned,
// a PutIfNewer whose version is the generation); 0 means never written.
// Generations come from one counter in the file's header, so they are unique
// across every run on the same file.
//
// Order log: for the power-loss rounds of `strata stress --faults` with
// sync=false, the writers append {key, before, after} for every write before
// they issue it, then stamp it with two tickets from one counter: `issue`
// just before the engine call, `ack` just after it returned Ok. A write
// acknowledged (ack ticket) before another was issued precedes it in the
// engine's commit order, whatever the threads; after a power cut the
// verifier checks that what survived is a prefix of that order
// (VerifyPrefixAfterPowerLoss). Every verification empties it.
//
// Power-cut guard: the child of `--faults` rewrites files to simulate a
// power cut; a SIGKILL in the middle would leave a state no machine crash
// makes. The child claims the guard word (0 -> kGuardPowerCut) for the cut
// and the verification after it; the parent claims it (0 -> kGuardKill)
// before it kills. Each waits while the other holds it.
//
// Layout (host byte order; the file never leaves the machine): see
// tools/stress/FORMAT.md.
//
// Threading: every word is read and written atomically; callers serialise
// the writes of one key (Workload's key locks).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "strata/status.h"

namespace strata::stress {

enum class WriteKind : uint64_t { kNone = 0, kPut = 1, kDelete = 2, kVersioned = 3 };

// One key's state, decoded.
struct KeyState {
  uint64_t generation = 0;
  WriteKind kind = WriteKind::kNone;

  static KeyState Decode(uint64_t word) {
    return KeyState{word >> 2, static_cast<WriteKind>(word & 3)};
  }
  uint64_t Encode() const { return generation << 2 | static_cast<uint64_t>(kind); }
  bool present() const { return kind == WriteKind::kPut || kind == WriteKind::kVersioned; }
  bool none() const { return kind == WriteKind::kNone; }
  bool operator==(const KeyState&) const = default;
  // "put@12", "delete@7", "versioned@9", "absent".
  std::string ToString() const;
};

// One order-log entry: `key` went from `before` to `after` (generation of
// `after`: the write's). A key's entries are in the order its writes were
// issued (writers hold the key's lock); with one writer, all entries are.
struct LogEntry {
  // Ticket values with a meaning of their own.
  static constexpr uint64_t kNotYet = 0;                // not issued / not acknowledged
  static constexpr uint64_t kCancelled = ~uint64_t{0};  // `ack`: the write did not happen

  uint64_t key = 0;
  KeyState before;
  KeyState after;
  uint64_t issue = kNotYet;  // ticket taken just before the engine call
  uint64_t ack = kNotYet;    // ticket taken once it returned Ok, or kCancelled
  bool cancelled() const { return ack == kCancelled; }
  bool acked() const { return ack != kNotYet && ack != kCancelled; }
};

class ExpectedState {
 public:
  // Order-log entries the file holds (a power-loss cycle stops when full).
  static constexpr uint64_t kLogCapacity = 16384;

  // Opens `path`, creating it for `key_count` keys when missing. An existing
  // file for another key count is InvalidArgument.
  static Status Open(const std::string& path, uint64_t key_count,
                     std::unique_ptr<ExpectedState>* state);
  ~ExpectedState();
  ExpectedState(const ExpectedState&) = delete;
  ExpectedState& operator=(const ExpectedState&) = delete;

  uint64_t key_count() const { return key_count_; }
  KeyState acked(uint64_t key) const { return KeyState::Decode(Word(key, 0).load()); }
  KeyState pending(uint64_t key) const { return KeyState::Decode(Word(key, 1).load()); }
  void SetPending(uint64_t key, KeyState s) { Word(key, 1).store(s.Encode()); }
  // The pending write was acknowledged: it becomes the acked state.
  void Ack(uint64_t key, KeyState s) {
    Word(key, 0).store(s.Encode());
    Word(key, 1).store(0);
  }
  // The pending write failed and is known not to have happened.
  void ClearPending(uint64_t key) { Word(key, 1).store(0); }

  uint64_t NextGeneration() { return Header(kNextGeneration).fetch_add(1); }
  uint64_t generation_bound() const { return Header(kNextGeneration).load(); }
  void CountVerification() { Header(kVerifications).fetch_add(1); }
  uint64_t verifications() const { return Header(kVerifications).load(); }
  void CountOps(uint64_t n) { Header(kOps).fetch_add(n, std::memory_order_relaxed); }
  uint64_t ops() const { return Header(kOps).load(std::memory_order_relaxed); }

  // Fault-mode counters: power cuts simulated, injected errors the engine
  // reported to the workload.
  void CountPowerCut() { Header(kPowerCuts).fetch_add(1); }
  uint64_t power_cuts() const { return Header(kPowerCuts).load(); }
  void CountReportedError() { Header(kReportedErrors).fetch_add(1); }
  uint64_t reported_errors() const { return Header(kReportedErrors).load(); }

  // The order log. Claim reserves `n` consecutive entries and returns the
  // first one's index, nullopt (nothing reserved) when they do not fit;
  // any number of threads may claim at once. A claimed entry is complete
  // once its writer stored it (LogSet); the verifier reads the log only
  // after the writers stopped (a killed child's log is discarded unread).
  std::optional<uint64_t> LogClaim(uint64_t n);
  void LogSet(uint64_t index, uint64_t key, KeyState before, KeyState after);
  // Claim(1) + Set; false when full.
  bool LogAppend(uint64_t key, KeyState before, KeyState after);
  // Tickets of entries [first, first + n): one write.
  uint64_t NextTicket() { return Header(kNextTicket).fetch_add(1); }
  void LogIssued(uint64_t first, uint64_t n, uint64_t ticket);
  void LogAcked(uint64_t first, uint64_t n, uint64_t ticket);
  // The write is known not to have happened (a PutIfNewer that did not apply).
  void LogCancel(uint64_t first, uint64_t n) { LogAcked(first, n, LogEntry::kCancelled); }
  // How many threads wrote the current log at most (1: its order is the
  // engine's commit order).
  void NoteLogWriters(uint64_t n);
  uint64_t log_writers() const { return Header(kLogWriters).load(); }
  void LogReset() {
    Header(kLogCount).store(0);
    Header(kLogWriters).store(0);
  }
  uint64_t log_count() const { return Header(kLogCount).load(); }
  LogEntry log_entry(uint64_t i) const;

  // The power-cut guard (see above).
  static constexpr uint64_t kGuardFree = 0, kGuardPowerCut = 1, kGuardKill = 2;
  bool TryClaimGuard(uint64_t who) {
    uint64_t expected = kGuardFree;
    return Header(kGuard).compare_exchange_strong(expected, who);
  }
  void ReleaseGuard() { Header(kGuard).store(kGuardFree); }

 private:
  enum HeaderWord {
    kMagic = 0,
    kKeyCount,
    kNextGeneration,
    kVerifications,
    kOps,
    kGuard,
    kLogCount,
    kPowerCuts,
    kReportedErrors,
    kLogWriters,
    kNextTicket,
  };

  ExpectedState(uint64_t* words, size_t bytes, uint64_t key_count)
      : words_(words), bytes_(bytes), key_count_(key_count) {}
  std::atomic_ref<uint64_t> Header(HeaderWord w) const {
    return std::atomic_ref<uint64_t>(words_[w]);
  }
  std::atomic_ref<uint64_t> Word(uint64_t key, int slot) const;
  std::atomic_ref<uint64_t> LogWord(uint64_t index, int slot) const;

  uint64_t* const words_;
  const size_t bytes_;
  const uint64_t key_count_;
};

}  // namespace strata::stress
