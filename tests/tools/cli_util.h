// Runs the `strata` binary for the tools tests.
#pragma once

#include <fmt/core.h>
#include <stdio.h>
#include <sys/wait.h>

#include <string>

namespace strata::testing {

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

inline CliResult RunCli(const std::string& args) {
  CliResult r;
  const std::string cmd = fmt::format("{} {} 2>&1", STRATA_CLI_PATH, args);
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n = 0;
  while ((n = ::fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace strata::testing
