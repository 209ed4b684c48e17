// `strata bench ...`: the side-by-side benchmark (bench/driver). Its flags
// follow db_bench (--benchmarks=..., --num=...), so CLI11 hands every
// argument after `bench` to the driver's own parser untouched.
#include <fmt/core.h>

#include <memory>
#include <string>
#include <vector>

#include "tools/commands.h"

#ifdef STRATA_HAVE_BENCH_DRIVER
#include "bench/driver/runner.h"
#endif

namespace strata::tools {

void RegisterBenchCommands(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "bench", "Benchmark strata's engines against RocksDB, LevelDB and LMDB (--help for flags)");
  cmd->prefix_command();
  cmd->set_help_flag();
  cmd->allow_extras();
  cmd->callback([cmd, exit_code] {
#ifdef STRATA_HAVE_BENCH_DRIVER
    bench::ChildCommand child;
    child.prefix_args = {"bench"};
    *exit_code = bench::RunBenchMain(cmd->remaining(), child);
#else
    (void)cmd;
    fmt::print(stderr, "strata: bench: this build has no benchmark driver (STRATA_BUILD_BENCH=OFF)\n");
    *exit_code = kExitUsage;
#endif
  });
}

}  // namespace strata::tools
