#include "tools/stress/kill_loop.h"

#include <fmt/core.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <random>
#include <thread>

#include "io/fault_file_system.h"
#include "io/file_system.h"
#include "strata/engine.h"
#include "tools/stress/expected_state.h"
#include "tools/stress/workload.h"

namespace strata::stress {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kExitOk = 0;
constexpr int kExitViolation = 1;
constexpr int kExitUsage = 2;
constexpr int kExitError = 3;
// How often the parent looks at its child.
constexpr std::chrono::milliseconds kPollInterval{5};
// A child that has not verified the database after this long is stuck.
constexpr std::chrono::seconds kVerifyTimeoutMin{120};
// The scrubber's rate in each child: a pass over the small database in a
// fraction of a round.
constexpr uint64_t kScrubBytesPerSecond = 4 * kMiB;
// Each child's workload seed: the run's seed and the round, spread apart.
constexpr uint64_t kRoundSeedStride = 7919;
// Workload ops per thread in a --faults cycle: min + [0, spread).
constexpr uint64_t kFaultCycleOpsMin = 200;
constexpr uint64_t kFaultCycleOpsSpread = 3000;
// How long the parent waits for a child's power cut before it kills anyway.
constexpr std::chrono::seconds kGuardTimeout{60};

std::string ResolveKind(const StressOptions& o) {
  std::string stored;
  if (io::ReadFileToString(io::DefaultFileSystem().get(), io::JoinPath(o.db, "KIND"), &stored)
          .ok() &&
      !stored.empty() && stored.back() == '\n') {
    stored.pop_back();
    if (o.engine.empty()) return stored;
  }
  return o.engine.empty() ? "lsm" : o.engine;
}

int ExitForStatus(const Status& s) {
  if (s.ok()) return kExitOk;
  if (IsViolation(s)) return kExitViolation;
  if (s.IsInvalidArgument() || s.IsNotSupported()) return kExitUsage;
  return kExitError;
}

// One seeded fault for a cycle of --faults: the Nth data op of a kind
// fails, once (3 in 4) or from then on (a disk that died).
io::ErrorInjection FaultFor(const StressOptions& o, std::mt19937_64& rng) {
  static constexpr io::FaultOpMask kMasks[] = {
      io::Mask(io::FaultOp::kRead),
      io::Mask(io::FaultOp::kWrite),
      io::Mask(io::FaultOp::kSync),
      io::Mask(io::FaultOp::kWrite) | io::Mask(io::FaultOp::kSync),
      io::kFaultDataOps,
  };
  io::ErrorInjection e;
  e.ops = kMasks[rng() % std::size(kMasks)];
  e.nth = 1 + rng() % (2 * std::max<uint64_t>(o.fault_rate, 1));
  e.fail_count = rng() % 4 == 0 ? io::kFailForever : 1;
  return e;
}

// The cycles of a --faults child (kill_loop.h, StressOptions::faults).
// Returns only on a failure; the parent kills it otherwise.
Status RunFaultCycles(const StressOptions& o, Options engine_options, uint64_t round,
                      ExpectedState* state) {
  auto fault = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
  engine_options.file_system = fault;
  std::mt19937_64 rng(o.seed + round * kRoundSeedStride);
  std::unique_ptr<Engine> db;
  STRATA_RETURN_IF_ERROR(Open(engine_options, o.db, &db));
  STRATA_RETURN_IF_ERROR(VerifyAfterRestart(db.get(), state));
  state->CountVerification();
  for (uint64_t cycle = 0;; ++cycle) {
    const bool power_cut = static_cast<int>(rng() % 100) < o.power_cut_percent;
    const io::ErrorInjection injection = FaultFor(o, rng);
    WorkloadOptions wo;
    wo.record_order = power_cut && !o.sync;
    // Half the logged cycles run one writer: its log is the commit order,
    // and the prefix check is exact (VerifyPrefixAfterPowerLoss).
    wo.threads = wo.record_order && rng() % 2 == 0 ? 1 : o.threads;
    wo.sync = o.sync;
    wo.seed = rng();
    wo.ops_per_thread = kFaultCycleOpsMin + rng() % kFaultCycleOpsSpread;
    wo.test_ack_failed_writes = o.test_ack_failed_writes;
    fault->InjectError(injection);
    Status s = Workload(db.get(), state, wo).Run();
    if (IsViolation(s)) return s;
    if (s.IsCorruption()) {
      // An I/O error must reach the caller as an I/O error, not as damage.
      return Violation(fmt::format("cycle {}: an injected I/O error came back as {}", cycle,
                                   s.ToString()));
    }
    if (!s.ok()) state->CountReportedError();
    if (o.verbose) {
      fmt::print(stderr,
                 "strata stress: round {} cycle {}: fault ops {:#x} nth {} count {}: workload "
                 "{} ({} order-log entries), then {}\n",
                 round, cycle, injection.ops, injection.nth,
                 injection.fail_count == io::kFailForever ? "all" : "1", s.ToString(),
                 state->log_count(), power_cut ? "a power cut" : "a close");
    }
    if (power_cut) {
      // The machine stops: nothing reaches the disk from here on, not even
      // from the engine's background threads, until the files are rewritten
      // to their durable state and the engine is gone.
      while (!state->TryClaimGuard(ExpectedState::kGuardPowerCut)) {
        std::this_thread::sleep_for(kPollInterval);  // the parent is killing us
      }
      io::ErrorInjection off;
      off.fail_count = io::kFailForever;
      fault->InjectError(off);
      io::CrashOptions crash;
      crash.keep_random_unsynced_prefix = rng() % 2 == 0;
      crash.seed = rng();
      STRATA_RETURN_IF_ERROR(fault->DropUnsyncedData(crash));
      db.reset();  // every call fails: the engine must not crash on it
      fault->ClearFaults();
      s = Open(engine_options, o.db, &db);
      if (!s.ok()) return s.WithContext(fmt::format("cycle {}: open after a power cut", cycle));
      s = o.sync ? VerifyAfterRestart(db.get(), state)
                 : VerifyPrefixAfterPowerLoss(db.get(), state);
      state->CountPowerCut();
      state->ReleaseGuard();
    } else {
      // As a user would after an error (or at the end of a stretch): close,
      // with the fault still armed, and open again without it.
      const Status closed = db->Close();  // may fail (the fault)
      if (o.verbose) fmt::print(stderr, "strata stress: close: {}\n", closed.ToString());
        db.reset();
      fault->ClearFaults();
      s = Open(engine_options, o.db, &db);
      if (s.ok()) s = VerifyAfterRestart(db.get(), state);
      if (s.ok() && !closed.ok()) {
        // The cycle's writes without sync may not be durable (the close
        // failed): a close without faults makes them so (Engine::Close), so
        // that a later power cut starts from a durable state.
        s = db->Close();
        if (!s.ok()) return s.WithContext(fmt::format("cycle {}: close without faults", cycle));
        db.reset();
        s = Open(engine_options, o.db, &db);
      }
    }
    STRATA_RETURN_IF_ERROR(s);
    state->CountVerification();
  }
}

// The child: open, verify, then run the workload until killed (or only
// verify). Returns its exit status; prints what went wrong.
int ChildMain(const StressOptions& o, const std::string& kind, uint64_t round, bool verify_only) {
  std::unique_ptr<ExpectedState> state;
  Status s = ExpectedState::Open(o.expected_state, o.keys, &state);
  Options engine_options = StressEngineOptions(kind);
  // The scrubber runs beside the workload: nothing damages the files, so any
  // corruption it reports (a real one, or a pass misreading a file that is
  // being rewritten) fails the run.
  engine_options.scrub_bytes_per_second = kScrubBytesPerSecond;
  engine_options.on_scrub_corruption = [round](const Status& corruption) {
    fmt::print(stderr, "strata stress: round {}: violation: the scrubber reported {}\n", round,
               corruption.ToString());
    ::_exit(kExitViolation);
  };
  if (s.ok() && o.faults && !verify_only) {
    s = RunFaultCycles(o, engine_options, round, state.get());
    fmt::print(stderr, "strata stress: round {}: {}\n", round, s.ToString());
    return ExitForStatus(s);
  }
  std::unique_ptr<Engine> db;
  if (s.ok()) s = Open(engine_options, o.db, &db);
  if (s.ok()) s = VerifyAfterRestart(db.get(), state.get());
  if (s.ok()) state->CountVerification();
  if (s.ok() && verify_only) s = db->Close();
  if (s.ok() && !verify_only) {
    WorkloadOptions wo;
    wo.threads = o.threads;
    wo.sync = o.sync;
    wo.seed = o.seed + round * kRoundSeedStride;
    wo.test_ack_failed_writes = o.test_ack_failed_writes;
    Workload workload(db.get(), state.get(), wo);
    s = workload.Run();
  }
  if (!s.ok()) {
    fmt::print(stderr, "strata stress: round {}{}: {}\n", round,
               verify_only ? " (final verification)" : "", s.ToString());
  }
  return ExitForStatus(s);
}

pid_t StartChild(const StressOptions& o, const std::string& kind, uint64_t round,
                 bool verify_only) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(ChildMain(o, kind, round, verify_only));
  return pid;
}

// The exit status of a child that ended by itself (not by our SIGKILL).
int ChildExit(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  fmt::print(stderr, "strata stress: the child died of signal {}\n", WTERMSIG(wait_status));
  return kExitError;
}

// SIGKILLs the child and reaps it, never in the middle of a simulated power
// cut (ExpectedState's guard): a kill there would leave files no crash makes.
void KillChild(pid_t pid, ExpectedState* state, int* status) {
  const auto give_up = Clock::now() + kGuardTimeout;
  while (!state->TryClaimGuard(ExpectedState::kGuardKill) && Clock::now() < give_up) {
    if (::waitpid(pid, status, WNOHANG) == pid) {  // ended by itself
      state->ReleaseGuard();
      return;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, status, 0);
  state->ReleaseGuard();
}

// Waits until `until` or until the child ends; true if it ended (*status set).
bool WaitUntil(pid_t pid, Clock::time_point until, const std::function<bool()>& done,
               int* status) {
  while (Clock::now() < until && !done()) {
    if (::waitpid(pid, status, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(kPollInterval);
  }
  return false;
}

// One round: start, wait for the verification, let it run, kill it.
// Returns kExitOk after the kill, else the child's failure.
int RunRound(const StressOptions& o, const std::string& kind, uint64_t round,
             ExpectedState* state, std::mt19937_64& rng) {
  const uint64_t verified = state->verifications();
  const pid_t pid = StartChild(o, kind, round, false);
  if (pid < 0) {
    fmt::print(stderr, "strata stress: fork failed\n");
    return kExitError;
  }
  const auto verify_timeout = std::max<Clock::duration>(
      kVerifyTimeoutMin, std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(10 * o.kill_every_seconds)));
  int status = 0;
  if (WaitUntil(pid, Clock::now() + verify_timeout,
                [&] { return state->verifications() > verified; }, &status)) {
    const int code = ChildExit(status);  // a working child never ends by itself
    return code == kExitOk ? kExitError : code;
  }
  if (state->verifications() == verified) {
    fmt::print(stderr, "strata stress: round {}: no verification within the timeout\n", round);
    KillChild(pid, state, &status);
    return kExitError;
  }
  std::uniform_real_distribution<double> around(0.5, 1.5);
  const auto kill_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(
                                              o.kill_every_seconds * around(rng)));
  if (WaitUntil(pid, kill_at, [] { return false; }, &status)) {
    const int code = ChildExit(status);
    return code == kExitOk ? kExitError : code;
  }
  KillChild(pid, state, &status);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
    const int code = ChildExit(status);  // it ended by itself just before the kill
    return code == kExitOk ? kExitError : code;
  }
  return kExitOk;
}

}  // namespace

Options StressEngineOptions(const std::string& kind) {
  Options options;
  options.engine = kind;
  options.memtable_bytes = 128 * kKiB;
  options.block_cache_bytes = 256 * kKiB;
  options.block_bytes = 1 * kKiB;
  options.wal_segment_bytes = 256 * kKiB;
  options.manifest_rollover_bytes = 32 * kKiB;
  options.l0_compaction_trigger = 2;
  return options;
}

int RunKillLoop(const StressOptions& options) {
  StressOptions o = options;
  if (o.db.empty() || o.threads < 1 || o.keys == 0 || o.duration_seconds < 0 ||
      o.kill_every_seconds <= 0) {
    fmt::print(stderr, "strata stress: need --db, threads >= 1, keys >= 1, kill-every > 0\n");
    return kExitUsage;
  }
  if (o.expected_state.empty()) o.expected_state = o.db + ".expected";
  const std::string kind = ResolveKind(o);
  std::unique_ptr<ExpectedState> state;
  Status s = ExpectedState::Open(o.expected_state, o.keys, &state);
  if (!s.ok()) {
    fmt::print(stderr, "strata stress: {}\n", s.ToString());
    return ExitForStatus(s);
  }
  fmt::print("strata stress: {} engine, db {}, expected state {}, seed {}, sync {}, {} threads{}\n",
             kind, o.db, o.expected_state, o.seed, o.sync ? 1 : 0, o.threads,
             o.faults ? fmt::format(", faults (rate {}, power cuts {}%)", o.fault_rate,
                                    o.power_cut_percent)
                      : "");
  std::fflush(stdout);
  state->ReleaseGuard();  // a parent killed while holding it
  std::mt19937_64 rng(o.seed);
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(o.duration_seconds));
  const uint64_t verified_before = state->verifications();
  const uint64_t ops_before = state->ops();
  const uint64_t cuts_before = state->power_cuts();
  const uint64_t errors_before = state->reported_errors();
  uint64_t kills = 0;
  for (uint64_t round = 0; Clock::now() < deadline && (o.kills_max == 0 || kills < o.kills_max);
       ++round) {
    const int code = RunRound(o, kind, round, state.get(), rng);
    if (code != kExitOk) return code;
    ++kills;
  }
  int status = 0;
  const pid_t pid = StartChild(o, kind, kills, true);
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return kExitError;
  const int code = ChildExit(status);
  if (code != kExitOk) return code;
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  fmt::print("strata stress: ok: {} kills, {} verifications, {} ops in {:.1f} s{}\n", kills,
             state->verifications() - verified_before, state->ops() - ops_before, seconds,
             o.faults ? fmt::format(", {} power cuts, {} injected errors reported",
                                    state->power_cuts() - cuts_before,
                                    state->reported_errors() - errors_before)
                      : "");
  return kExitOk;
}

}  // namespace strata::stress
