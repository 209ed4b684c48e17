// The `strata` command line: one subcommand group per module. Each module's
// file (tools/wal_commands.cc, tools/sst_commands.cc, ...) defines a Register
// function; tools/strata.cc calls them all.
//
// Exit statuses (documented in README):
//   0 ok, 1 not found or check failed, 2 usage error, 3 corruption or I/O error.
#pragma once

#include <CLI/CLI.hpp>

#include "strata/disk_profile.h"
#include "strata/status.h"

namespace strata::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNotFoundOrCheckFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitCorruptionOrIo = 3;

// Maps a Status to the exit statuses above and prints a one-line message on
// stderr when not ok.
int ExitFor(const Status& status);

// Prints a disk profile decision as "profile.<field> <value>" lines
// (tools/io_commands.cc; `strata io probe`, `strata kv DIR stats`).
void PrintDiskProfile(const ResolvedDiskProfile& profile);

// Each subcommand sets *exit_code from its callback.
using RegisterFn = void (*)(CLI::App& app, int* exit_code);

void RegisterVersionCommand(CLI::App& app, int* exit_code);
void RegisterIoCommands(CLI::App& app, int* exit_code);
void RegisterWalCommands(CLI::App& app, int* exit_code);
void RegisterSstCommands(CLI::App& app, int* exit_code);
void RegisterKvCommands(CLI::App& app, int* exit_code);
void RegisterManifestCommands(CLI::App& app, int* exit_code);
void RegisterBenchCommands(CLI::App& app, int* exit_code);
void RegisterSnapshotCommands(CLI::App& app, int* exit_code);
void RegisterBtreeCommands(CLI::App& app, int* exit_code);
void RegisterRaftkvCommands(CLI::App& app, int* exit_code);
void RegisterScrubCommands(CLI::App& app, int* exit_code);   // tools/scrub_commands.cc
void RegisterStressCommands(CLI::App& app, int* exit_code);  // tools/stress_commands.cc

}  // namespace strata::tools
