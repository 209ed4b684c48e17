// strata_delete_range_bench: deletes half the keys of a database with one
// DeleteRange, and (in a second, identical database) with one Delete per
// key, for each engine kind; reports both times and their ratio.
//
// Each timed phase ends with Flush(), so that both sides include making the
// deletion durable in the engine's own files (tables or pages), not only in
// the WAL; neither includes the later compaction that reclaims the space.
// After each phase the surviving keys are counted (not timed) to check that
// both ways left the same state.
//
// Usage: strata_delete_range_bench [--dir DIR] [--num N] [--value-bytes B]
//        [--engines lsm,btree] [--keep]
#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "strata/engine.h"
#include "strata/write_batch.h"

namespace strata::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  std::string dir = STRATA_BENCH_DEFAULT_DIR;
  uint64_t num = 1000000;
  size_t value_bytes = 100;
  std::vector<std::string> engines = {"lsm", "btree"};
  bool keep = false;
};

std::string Key(uint64_t i) { return fmt::format("{:016}", i); }

[[noreturn]] void Fail(const std::string& what, const Status& s) {
  fmt::print(stderr, "error: {}: {}\n", what, s.ToString());
  std::exit(1);
}

void Check(const std::string& what, const Status& s) {
  if (!s.ok()) Fail(what, s);
}

std::unique_ptr<Engine> Load(const Config& c, const std::string& kind, const std::string& dir) {
  std::filesystem::remove_all(dir);
  Options o;
  o.engine = kind;
  std::unique_ptr<Engine> db;
  Check("open " + dir, strata::Open(o, dir, &db));
  const std::string value(c.value_bytes, 'v');
  WriteBatch batch;
  for (uint64_t i = 0; i < c.num; ++i) {
    Check("put", batch.Put(Key(i), value));
    if (batch.Count() == 1000 || i + 1 == c.num) {
      Check("write", db->Write(WriteOptions(), batch));
      batch.Clear();
    }
  }
  Check("flush", db->Flush());
  return db;
}

uint64_t CountKeys(Engine* db) {
  uint64_t n = 0;
  std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  Check("scan", it->status());
  return n;
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void RunEngine(const Config& c, const std::string& kind) {
  const uint64_t half = c.num / 2;
  const std::string range_dir = c.dir + "/" + kind + "-range";
  const std::string each_dir = c.dir + "/" + kind + "-each";
  double range_seconds = 0, each_seconds = 0;
  uint64_t range_left = 0, each_left = 0;
  {
    std::unique_ptr<Engine> db = Load(c, kind, range_dir);
    const Clock::time_point start = Clock::now();
    WriteBatch batch;
    Check("DeleteRange", batch.DeleteRange(Key(0), Key(half)));
    Check("write", db->Write(WriteOptions{true}, batch));
    Check("flush", db->Flush());
    range_seconds = Seconds(start);
    range_left = CountKeys(db.get());
  }
  {
    std::unique_ptr<Engine> db = Load(c, kind, each_dir);
    const Clock::time_point start = Clock::now();
    for (uint64_t i = 0; i < half; ++i) Check("Delete", db->Delete(WriteOptions(), Key(i)));
    Check("flush", db->Flush());
    each_seconds = Seconds(start);
    each_left = CountKeys(db.get());
  }
  if (range_left != c.num - half || each_left != c.num - half) {
    fmt::print(stderr, "error: {}: {} keys left after DeleteRange, {} after Deletes, want {}\n",
               kind, range_left, each_left, c.num - half);
    std::exit(1);
  }
  fmt::print(
      "{:<6} delete {} of {} keys: DeleteRange {:.3f} ms, one Delete per key {:.3f} ms, "
      "ratio {:.0f}x\n",
      kind, half, c.num, range_seconds * 1e3, each_seconds * 1e3, each_seconds / range_seconds);
  if (!c.keep) {
    std::filesystem::remove_all(range_dir);
    std::filesystem::remove_all(each_dir);
  }
}

Config ParseArgs(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "error: {} needs a value\n", arg);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--dir") {
      c.dir = next();
    } else if (arg == "--num") {
      c.num = std::stoull(next());
    } else if (arg == "--value-bytes") {
      c.value_bytes = std::stoull(next());
    } else if (arg == "--engines") {
      c.engines.clear();
      std::string list = next();
      for (size_t pos = 0; pos <= list.size();) {
        const size_t comma = std::min(list.find(',', pos), list.size());
        c.engines.push_back(list.substr(pos, comma - pos));
        pos = comma + 1;
      }
    } else if (arg == "--keep") {
      c.keep = true;
    } else {
      fmt::print(stderr,
                 "usage: strata_delete_range_bench [--dir DIR] [--num N] "
                 "[--value-bytes B] [--engines lsm,btree] [--keep]\n");
      std::exit(2);
    }
  }
  if (c.num < 2) {
    fmt::print(stderr, "error: --num must be at least 2\n");
    std::exit(2);
  }
  return c;
}

}  // namespace
}  // namespace strata::bench

int main(int argc, char** argv) {
  const strata::bench::Config c = strata::bench::ParseArgs(argc, argv);
  std::filesystem::create_directories(c.dir);
  for (const std::string& kind : c.engines) strata::bench::RunEngine(c, kind);
  return 0;
}
