// Table::Get with a warm block cache, and a full scan: the per-table cost
// the LSM read path pays on top of the memtable and version lookups.
#include <benchmark/benchmark.h>
#include <fmt/core.h>
#include <stdlib.h>

#include <random>
#include <string>

#include "io/file_system.h"
#include "lsm/table.h"
#include "lsm/table_builder.h"

namespace strata::lsm {
namespace {

constexpr int kEntries = 100000;

std::string UserKey(int i) { return fmt::format("{:016}", i * 3); }

// Builds one table (16-byte keys, 100-byte values) in a temp dir and opens it.
struct BenchTable {
  BenchTable() : cache(64 << 20) {
    char templ[] = "/tmp/strata-table-bench.XXXXXX";
    dir = ::mkdtemp(templ);
    path = dir + "/000001.sst";
    auto fs = io::DefaultFileSystem();
    std::unique_ptr<io::WritableFile> file;
    if (!fs->NewWritableFile(path, io::FileOptions{}, &file).ok()) return;
    TableBuilder builder(TableOptions{}, file.get());
    const std::string value(100, 'v');
    for (int i = 0; i < kEntries; ++i) {
      std::string k;
      AppendInternalKey(&k, UserKey(i), i + 1, ValueType::kValue);
      if (!builder.Add(k, value).ok()) return;
    }
    if (!builder.Finish().ok() || !file->Close().ok()) return;
    std::unique_ptr<io::RandomAccessFile> reader;
    if (!fs->NewRandomAccessFile(path, io::FileOptions{}, &reader).ok()) return;
    const uint64_t size = reader->Size().value();
    if (!Table::Open(TableOptions{}, std::move(reader), size, 1, &cache, &table).ok()) return;
  }
  ~BenchTable() {
    table.reset();
    std::remove(path.c_str());
    ::rmdir(dir.c_str());
  }
  std::string dir, path;
  BlockCache cache;
  std::unique_ptr<Table> table;
};

void BM_TableGetCached(benchmark::State& state) {
  static BenchTable t;
  if (t.table == nullptr) {
    state.SkipWithError("table build failed");
    return;
  }
  std::mt19937 rng(1);
  std::string ikey, value;
  uint64_t found_count = 0;
  for (auto _ : state) {
    bool found = false;
    const std::string lookup = LookupKey(UserKey(rng() % kEntries), kMaxSequenceNumber);
    if (!t.table->Get(ReadOptions{}, lookup, &found, &ikey, &value, nullptr).ok()) {
      state.SkipWithError("get failed");
      return;
    }
    found_count += found;
  }
  benchmark::DoNotOptimize(found_count);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TableGetCached);

void BM_TableScan(benchmark::State& state) {
  static BenchTable t;
  if (t.table == nullptr) {
    state.SkipWithError("table build failed");
    return;
  }
  for (auto _ : state) {
    auto it = t.table->NewIterator(ReadOptions{});
    uint64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * kEntries);
}
BENCHMARK(BM_TableScan)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace strata::lsm
