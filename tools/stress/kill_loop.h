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
};

// Small limits so that every round flushes, compacts, checkpoints and rolls
// WAL segments and manifests over.
Options StressEngineOptions(const std::string& kind);

// The kill loop. Returns the process exit status: 0 every verification
// passed, 1 the first violation (printed), 2 bad options, 3 an error that
// stopped the run (the database would not open, a fork failed).
int RunKillLoop(const StressOptions& options);

}  // namespace strata::stress
