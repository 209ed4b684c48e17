// `strata stress`: the workload (tools/stress/workload.h) in a child process
// that is SIGKILLed at seeded random moments and restarted, verifying the
// database against the expected state after every restart.
//
// Each round forks a child that opens the database, verifies it
// (VerifyAfterRestart) and runs the workload until the parent kills it
// kill_every * [0.5, 1.5) seconds after the verification. After the last
// round a final child only verifies. The expected state lives next to the
// database (DIR.expected), so a later `strata stress` on the same directory
// continues where this one stopped.
#pragma once

#include <cstdint>
#include <string>

#include "strata/options.h"

namespace strata::stress {

struct StressOptions {
  std::string db;
  std::string engine;  // empty: the directory's kind, or lsm for a new one
  double duration_seconds = 60;
  double kill_every_seconds = 5;
  uint64_t kills_max = 0;  // stop after this many kills (0: only the duration stops)
  bool sync = false;
  int threads = 4;
  uint64_t seed = 1;
  uint64_t keys = 2000;
  std::string expected_state;  // empty: db + ".expected"
  // --faults: each child runs cycles over an io::FaultFileSystem. A cycle
  // opens the engine without faults, verifies, arms one seeded error (the
  // Nth read, write and/or fsync fails, N about fault_rate, once or from then
  // on) and runs the workload until it reports an error or did a seeded
  // number of ops. Then either a power cut (power_cut_percent of the cycles:
  // unsynced data dropped, reopened, VerifyAfterRestart for sync=1,
  // VerifyPrefixAfterPowerLoss for sync=0, with one writer thread in half
  // of those cycles and `threads` writers in the others) or a close
  // as a user would after an error. The parent's SIGKILLs come on top.
  bool faults = false;
  uint64_t fault_rate = 400;
  int power_cut_percent = 50;
  // --verbose: one line per --faults cycle on stderr (fault, outcome).
  bool verbose = false;
  // Test hook (a deliberate bug): the workload acknowledges failed writes.
  bool test_ack_failed_writes = false;
};

// Small limits so that every round flushes, compacts, checkpoints and rolls
// WAL segments and manifests over.
Options StressEngineOptions(const std::string& kind);

// The kill loop. Returns the process exit status: 0 every verification
// passed, 1 the first violation (printed), 2 bad options, 3 an error that
// stopped the run (the database would not open, a fork failed).
int RunKillLoop(const StressOptions& options);

}  // namespace strata::stress
