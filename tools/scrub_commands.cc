// `strata scrub DIR`: one scrub pass over a database of either engine kind,
// as the background scrubber (Options::scrub_bytes_per_second) runs it: every
// live SSTable (lsm) or every page of the newest checkpoint (btree) is read
// back and verified. Exit 0 clean, 3 on corruption (each named with file and
// offset) or an I/O error, 2 on usage errors (no database in DIR).
#include <fmt/core.h>

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "btree/btree_impl.h"
#include "btree/check.h"
#include "io/file_system.h"
#include "io/scrub.h"
#include "lsm/db_impl.h"
#include "strata/engine.h"
#include "tools/commands.h"

namespace strata::tools {

namespace {

// Without --rate the pass reads as fast as the disk allows.
constexpr uint64_t kUnlimitedBytesPerSecond = std::numeric_limits<uint64_t>::max() / 2;

Status ScrubLsm(const std::string& dir, io::ByteRateLimiter* limiter,
                std::vector<Status>* corruptions, io::ScrubCounters* counters) {
  Options options;
  options.engine = "lsm";
  options.read_only = true;
  std::unique_ptr<Engine> engine;
  STRATA_RETURN_IF_ERROR(Open(options, dir, &engine));
  auto* db = dynamic_cast<lsm::DBImpl*>(engine.get());
  STRATA_ASSERT(db != nullptr);
  return db->ScrubOnce(
      limiter, [&](const Status& s) { corruptions->push_back(s); }, counters);
}

Status ScrubBtree(const std::string& dir, io::ByteRateLimiter* limiter,
                  std::vector<Status>* corruptions, io::ScrubCounters* counters) {
  auto fs = io::DefaultFileSystem();
  std::unique_ptr<io::RandomAccessFile> file;
  STRATA_RETURN_IF_ERROR(io::OpenRateLimitedFile(
      fs.get(), io::JoinPath(dir, btree::kDataFileName), limiter, &file));
  btree::CheckReport report;
  const Status s = btree::CheckFile(*file, &report);
  ++counters->files;
  if (s.IsCorruption()) {
    corruptions->push_back(s);
    return Status::Ok();
  }
  return s;
}

int RunScrub(const std::string& dir, uint64_t bytes_per_second) {
  std::string kind;
  const Status read = io::ReadFileToString(io::DefaultFileSystem().get(),
                                           io::JoinPath(dir, "KIND"), &kind);
  if (!read.ok()) {
    fmt::print(stderr, "strata: {}: not a strata database (no KIND file)\n", dir);
    return kExitUsage;
  }
  if (!kind.empty() && kind.back() == '\n') kind.pop_back();
  io::ByteRateLimiter limiter(bytes_per_second == 0 ? kUnlimitedBytesPerSecond
                                                    : bytes_per_second);
  std::vector<Status> corruptions;
  io::ScrubCounters counters;
  Status s;
  if (kind == "lsm") {
    s = ScrubLsm(dir, &limiter, &corruptions, &counters);
  } else if (kind == "btree") {
    s = ScrubBtree(dir, &limiter, &corruptions, &counters);
  } else {
    fmt::print(stderr, "strata: {}: unknown engine kind '{}'\n", dir, kind);
    return kExitUsage;
  }
  if (s.IsCorruption()) corruptions.push_back(s);  // found while opening the database
  for (const Status& c : corruptions) fmt::print("CORRUPT {}\n", c.message());
  if (!corruptions.empty()) {
    fmt::print(stderr, "strata: scrub of {} found {} corruption(s)\n", dir, corruptions.size());
    return kExitCorruptionOrIo;
  }
  if (!s.ok()) return ExitFor(s);
  fmt::print("{} ({}): {} files, {} bytes scrubbed: clean\n", dir, kind, counters.files,
             limiter.bytes_acquired());
  return kExitOk;
}

}  // namespace

void RegisterScrubCommands(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "scrub", "Read back and verify every immutable file of a database (lsm: live SSTables; "
               "btree: the newest checkpoint's pages); exit 3 naming file and offset if corrupt");
  auto dir = std::make_shared<std::string>();
  auto rate = std::make_shared<uint64_t>(0);
  cmd->add_option("DIR", *dir, "Database directory")->required();
  cmd->add_option("--rate", *rate, "Bytes per second to read at most (0: unlimited)");
  cmd->callback([=] { *exit_code = RunScrub(*dir, *rate); });
}

}  // namespace strata::tools
