// strata: inspect, verify and benchmark strata files and databases.
#include <fmt/core.h>

#include <CLI/CLI.hpp>

#include "tools/commands.h"

namespace strata::tools {

int ExitFor(const Status& status) {
  if (status.ok()) return kExitOk;
  fmt::print(stderr, "strata: {}\n", status.ToString());
  if (status.IsNotFound()) return kExitNotFoundOrCheckFailed;
  if (status.IsInvalidArgument() || status.IsNotSupported()) return kExitUsage;
  return kExitCorruptionOrIo;
}

void RegisterVersionCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand("version", "Print the strata version");
  cmd->callback([exit_code] {
    fmt::print("strata {}\n", STRATA_VERSION);
    *exit_code = kExitOk;
  });
}

}  // namespace strata::tools

int main(int argc, char** argv) {
  using namespace strata::tools;
  CLI::App app{"strata: storage engine toolkit (WAL, LSM, B+ tree) and its tools"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  int exit_code = kExitOk;
  const RegisterFn registrations[] = {
      RegisterVersionCommand,
      RegisterIoCommands,
      RegisterWalCommands,
      RegisterSstCommands,
      RegisterKvCommands,
      RegisterManifestCommands,
      RegisterBenchCommands,
      RegisterSnapshotCommands,
      RegisterBtreeCommands,
      RegisterRaftkvCommands,
      RegisterScrubCommands,
      RegisterStressCommands,
  };
  for (RegisterFn fn : registrations) fn(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int cli_code = app.exit(e);
    // --help is a successful exit; every other parse error is a usage error.
    return cli_code == 0 ? kExitOk : kExitUsage;
  }
  return exit_code;
}
