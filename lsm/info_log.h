// The engine's info log (LevelDB's LOG): one human-readable line per event
// (open and recovery, flushes and compactions with sizes and times, write
// stalls, errors), for people and not for recovery.
//
// FileInfoLogger writes the file LOG in the database directory through the
// engine's FileSystem, never syncs it, and bounds it: once LOG reaches
// bytes_max it is renamed to LOG.old (replacing the previous one) and a new
// LOG starts, so the two files together stay below about 2 * bytes_max. Open
// also moves an existing LOG to LOG.old, so each open starts a new LOG.
// Logging is best effort: a failed write or rotation drops lines, never fails
// the engine. Thread safe (one mutex around each line).
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "io/file_system.h"
#include "strata/options.h"
#include "strata/status.h"

namespace strata::lsm {

inline constexpr std::string_view kInfoLogFileName = "LOG";
inline constexpr std::string_view kInfoLogOldFileName = "LOG.old";

class FileInfoLogger final : public InfoLogger {
 public:
  // REQUIRES: bytes_max > 0.
  static Status Open(std::shared_ptr<io::FileSystem> fs, const std::string& dir, size_t bytes_max,
                     std::shared_ptr<InfoLogger>* logger);
  ~FileInfoLogger() override;

  void Log(std::string_view line) override;

 private:
  FileInfoLogger(std::shared_ptr<io::FileSystem> fs, std::string dir, size_t bytes_max);
  // REQUIRES: mu_ held. Moves LOG to LOG.old and starts a new LOG.
  Status RotateLocked();

  const std::shared_ptr<io::FileSystem> fs_;
  const std::string dir_;
  const size_t bytes_max_;
  std::mutex mu_;
  std::unique_ptr<io::WritableFile> file_;  // null after a failed rotation
  uint64_t bytes_ = 0;
};

// "2026/12/07-12:34:56.123456 " + the formatted message, to `logger` (no-op
// when null).
void InfoLogLine(InfoLogger* logger, std::string_view message);

template <typename... Args>
void InfoLog(InfoLogger* logger, fmt::format_string<Args...> format, Args&&... args) {
  if (logger == nullptr) return;
  InfoLogLine(logger, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace strata::lsm
