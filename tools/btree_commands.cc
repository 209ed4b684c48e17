// `strata btree ...`: check, dump and stats of a B+ tree data file
// (btree/FORMAT.md). PATH is a database directory or its btree.db.
#include <fmt/core.h>

#include <memory>
#include <string>

#include "btree/btree_impl.h"
#include "btree/check.h"
#include "btree/inspect.h"
#include "io/file_system.h"
#include "tools/commands.h"

namespace strata::tools {

namespace {

std::string DataFile(const std::string& path) {
  auto fs = io::DefaultFileSystem();
  const std::string inside = io::JoinPath(path, btree::kDataFileName);
  return fs->FileExists(inside) ? inside : path;
}

std::string Histogram(const std::array<uint64_t, 11>& fill) {
  std::string out;
  for (size_t d = 0; d <= 10; ++d) {
    if (fill[d] == 0) continue;
    out += fmt::format("    {:>3}-{:>3}%: {}\n", d * 10, std::min<size_t>(100, d * 10 + 9), fill[d]);
  }
  return out;
}

void PrintStats(const btree::CheckReport& r) {
  using btree::PageType;
  auto count = [&](PageType t) { return r.pages_by_type[static_cast<size_t>(t)]; };
  fmt::print("page size {}  checkpoint {}  wal_lsn {}\n", r.page_bytes, r.meta.checkpoint,
             r.meta.wal_lsn);
  fmt::print("height {}  entries {}  overflow bytes {}\n", r.meta.height, r.entries,
             r.overflow_bytes);
  fmt::print("pages {}: meta {}  branch {}  leaf {}  overflow {}  free-list {}  free {}\n",
             r.meta.page_count, count(PageType::kMeta), count(PageType::kBranch),
             count(PageType::kLeaf), count(PageType::kOverflow), count(PageType::kFreeList),
             r.free_pages);
  fmt::print("leaf fill:\n{}", Histogram(r.leaf_fill));
  fmt::print("branch fill:\n{}", Histogram(r.branch_fill));
}

int RunCheck(const std::string& path, bool quiet) {
  btree::CheckReport report;
  const std::string file = DataFile(path);
  const Status s = btree::CheckFile(io::DefaultFileSystem().get(), file, &report);
  if (s.IsCorruption()) {
    fmt::print("{}: check FAILED: {}\n", file, s.message());
    return kExitNotFoundOrCheckFailed;
  }
  if (!s.ok()) return ExitFor(s);
  if (!quiet) PrintStats(report);
  fmt::print("{}: ok\n", file);
  return kExitOk;
}

int RunStats(const std::string& path) {
  btree::CheckReport report;
  const Status s = btree::CheckFile(io::DefaultFileSystem().get(), DataFile(path), &report);
  if (!s.ok()) return ExitFor(s);
  PrintStats(report);
  return kExitOk;
}

Status RunDump(const std::string& path, int64_t page, bool hex) {
  auto fs = io::DefaultFileSystem();
  std::unique_ptr<io::RandomAccessFile> in;
  STRATA_RETURN_IF_ERROR(fs->NewRandomAccessFile(DataFile(path), io::FileOptions{}, &in));
  size_t page_bytes = 0;
  btree::Meta meta;
  STRATA_RETURN_IF_ERROR(btree::LoadNewestMeta(*in, &page_bytes, &meta));
  const uint64_t first = page < 0 ? 0 : static_cast<uint64_t>(page);
  const uint64_t last = page < 0 ? meta.page_count : first + 1;
  Status first_error;
  for (uint64_t no = first; no < last; ++no) {
    std::string out;
    Status s = btree::DescribePage(*in, page_bytes, no, hex, &out);
    fmt::print("{}", out);
    if (s.IsNotFound()) return s;
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  return first_error;
}

}  // namespace

void RegisterBtreeCommands(CLI::App& app, int* exit_code) {
  CLI::App* bt = app.add_subcommand("btree", "Check and inspect B+ tree files (btree/FORMAT.md)");
  bt->require_subcommand(1);

  CLI::App* check = bt->add_subcommand(
      "check", "Verify checksums, key order, fences, fill, overflow chains and free-list "
               "accounting; exit 1 naming the page and offset of the first violation");
  auto check_path = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  check->add_option("PATH", *check_path, "Database directory or btree.db file")->required();
  check->add_flag("--quiet", *quiet, "Print only the verdict");
  check->callback([=] { *exit_code = RunCheck(*check_path, *quiet); });

  CLI::App* dump = bt->add_subcommand("dump", "Describe pages (all, or --page N)");
  auto dump_path = std::make_shared<std::string>();
  auto page = std::make_shared<int64_t>(-1);
  auto hex = std::make_shared<bool>(false);
  dump->add_option("PATH", *dump_path, "Database directory or btree.db file")->required();
  dump->add_option("--page", *page, "Only this page");
  dump->add_flag("--hex", *hex, "Also print the page bytes in hex");
  dump->callback([=] { *exit_code = ExitFor(RunDump(*dump_path, *page, *hex)); });

  CLI::App* stats = bt->add_subcommand(
      "stats", "Height, pages by type, fill histogram and free pages of the newest checkpoint");
  auto stats_path = std::make_shared<std::string>();
  stats->add_option("PATH", *stats_path, "Database directory or btree.db file")->required();
  stats->callback([=] { *exit_code = RunStats(*stats_path); });
}

}  // namespace strata::tools
