// Micro-benchmarks for the LSM memtable (a skiplist over an arena): insert,
// point lookup and a full iterator scan. Each reports items/s. The
// std::map rows, measured in the same run, are the familiar yardstick.
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "lsm/memtable.h"

namespace strata::lsm {
namespace {

constexpr int kKeyCount = 100000;
const std::string kValue(100, 'v');

// Distinct 16-byte user keys in a seeded random order.
std::vector<std::string> ShuffledKeys() {
  std::vector<std::string> keys;
  keys.reserve(kKeyCount);
  for (int i = 0; i < kKeyCount; ++i) keys.push_back(fmt::format("key{:013}", i));
  std::mt19937_64 rng(42);
  std::shuffle(keys.begin(), keys.end(), rng);
  return keys;
}

std::unique_ptr<MemTable> FilledMemTable(const std::vector<std::string>& keys) {
  auto mem = std::make_unique<MemTable>(/*wal_lsn_start=*/1);
  SequenceNumber seq = 1;
  for (const auto& k : keys) mem->Add(seq++, ValueType::kValue, k, kValue);
  return mem;
}

void BM_MemTableInsert(benchmark::State& state) {
  const auto keys = ShuffledKeys();
  for (auto _ : state) {
    FilledMemTable(keys);
  }
  state.SetItemsProcessed(state.iterations() * kKeyCount);
}
BENCHMARK(BM_MemTableInsert)->Unit(benchmark::kMillisecond);

void BM_StdMapInsert(benchmark::State& state) {
  const auto keys = ShuffledKeys();
  for (auto _ : state) {
    std::map<std::string, std::string> map;
    for (const auto& k : keys) map.emplace(k, kValue);
    benchmark::DoNotOptimize(map);
  }
  state.SetItemsProcessed(state.iterations() * kKeyCount);
}
BENCHMARK(BM_StdMapInsert)->Unit(benchmark::kMillisecond);

void BM_MemTableGet(benchmark::State& state) {
  const auto keys = ShuffledKeys();
  const auto mem = FilledMemTable(keys);
  std::string value;
  ValueType type;
  size_t i = 0;
  for (auto _ : state) {
    bool found = mem->Get(keys[i], kMaxSequenceNumber, &type, &value);
    benchmark::DoNotOptimize(found);
    if (++i == keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MemTableGet);

void BM_StdMapFind(benchmark::State& state) {
  const auto keys = ShuffledKeys();
  std::map<std::string, std::string> map;
  for (const auto& k : keys) map.emplace(k, kValue);
  size_t i = 0;
  for (auto _ : state) {
    auto it = map.find(keys[i]);
    benchmark::DoNotOptimize(it);
    if (++i == keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StdMapFind);

void BM_MemTableIteratorScan(benchmark::State& state) {
  const auto mem = FilledMemTable(ShuffledKeys());
  for (auto _ : state) {
    auto it = mem->NewIterator();
    size_t bytes = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) bytes += it->key().size();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * kKeyCount);
}
BENCHMARK(BM_MemTableIteratorScan)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace strata::lsm
