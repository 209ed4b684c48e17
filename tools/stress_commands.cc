// `strata stress`: kill/restart loops of a db_stress-like workload against an
// expected-state file (tools/stress/kill_loop.h, docs/RELIABILITY.md).
#include <memory>

#include "tools/commands.h"
#include "tools/stress/kill_loop.h"

namespace strata::tools {

void RegisterStressCommands(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "stress", "Run a random workload in a child, SIGKILL and restart it, verify every "
                "restart against an expected-state file (exit 1 naming the first violation)");
  auto o = std::make_shared<stress::StressOptions>();
  auto sync = std::make_shared<int>(0);
  cmd->add_option("--db", o->db, "Database directory (created if missing)")->required();
  cmd->add_option("--engine", o->engine, "lsm or btree (default: the directory's kind, else lsm)");
  cmd->add_option("--duration", o->duration_seconds, "Seconds of kill/restart rounds")
      ->default_val(60);
  cmd->add_option("--kill-every", o->kill_every_seconds,
                  "Mean seconds between kills (each in [0.5, 1.5) of it)")
      ->default_val(5);
  cmd->add_option("--kills", o->kills_max, "Stop after this many kills (0: at --duration)");
  cmd->add_option("--sync", *sync, "1: every write syncs")->check(CLI::Range(0, 1));
  cmd->add_option("--threads", o->threads, "Workload threads")->default_val(4);
  cmd->add_option("--seed", o->seed, "Seed of kill times and workloads")->default_val(1);
  cmd->add_option("--keys", o->keys, "Size of the key space")->default_val(2000);
  cmd->add_option("--expected-state", o->expected_state,
                  "Expected-state file (default: DIR.expected)");
  cmd->add_flag("--faults", o->faults,
               "Run the engine over a fault-injecting file system: seeded read/write/fsync "
               "errors and simulated power cuts besides the kills (docs/RELIABILITY.md)");
  cmd->add_option("--fault-rate", o->fault_rate,
                  "--faults: about one injected error per this many data ops of a cycle")
      ->default_val(400)
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  cmd->add_option("--power-cut-percent", o->power_cut_percent,
                  "--faults: percent of the cycles that end in a power cut (the rest in a close)")
      ->default_val(50)
      ->check(CLI::Range(0, 100));
  cmd->add_flag("--verbose", o->verbose, "--faults: one line per cycle on stderr");
  // A deliberate bug for the tests: acknowledge writes whose status was an error.
  cmd->add_flag("--test-ack-failed-writes", o->test_ack_failed_writes)->group("");
  cmd->callback([=] {
    o->sync = *sync == 1;
    *exit_code = stress::RunKillLoop(*o);
  });
}

}  // namespace strata::tools
