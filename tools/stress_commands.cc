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
  cmd->callback([=] {
    o->sync = *sync == 1;
    *exit_code = stress::RunKillLoop(*o);
  });
}

}  // namespace strata::tools
