// Running the benchmark: one engine's whole sequence of workloads (in this
// process or in a fresh child process, so that peak RSS and /proc/self/io
// belong to that engine alone), and the top-level `strata bench` entry point.
#pragma once

#include <string>
#include <vector>

#include "bench/driver/flags.h"
#include "bench/driver/results.h"

namespace strata::bench {

// Runs config.benchmarks on `engine` in DIR = config.db/engine (emptied
// first unless --use_existing_db). A failure is reported in EngineRun::error
// with the results measured before it.
EngineRun RunEngine(const BenchConfig& config, const std::string& engine, bool progress);

// How the parent re-executes itself for a child: the executable and the
// arguments before the bench flags (e.g. {"bench"} for the strata CLI).
struct ChildCommand {
  std::string executable = "/proc/self/exe";
  std::vector<std::string> prefix_args;
};

// Runs one engine in a child process executing `command` with `args` plus
// --engines=ENGINE and --child_result=FILE, and reads its results back.
EngineRun RunEngineInChild(const ChildCommand& command, const std::vector<std::string>& args,
                           const BenchConfig& config, const std::string& engine, bool progress);

// `strata bench ARGS...`: parses, runs, prints. Returns the exit status:
// 0 ok, 2 usage error, 3 an engine failed.
int RunBenchMain(const std::vector<std::string>& args, const ChildCommand& command);

}  // namespace strata::bench
