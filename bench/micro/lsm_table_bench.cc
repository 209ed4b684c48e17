// Micro-benchmarks for the SSTable building blocks. Each reports items/s;
// compare a block seek with a plain std::lower_bound over the same keys
// (BM_SortedVectorSeek) measured in the same run.
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/checksum.h"
#include "core/coding.h"
#include "lsm/block.h"
#include "lsm/block_builder.h"
#include "lsm/bloom.h"
#include "lsm/dbformat.h"

namespace strata::lsm {
namespace {

// A 4 KiB-ish data block of 16-byte user keys and 16-byte values.
std::vector<std::string> BlockKeys(int count) {
  std::vector<std::string> keys;
  for (int i = 0; i < count; ++i) {
    std::string k;
    AppendInternalKey(&k, fmt::format("user{:012}", i * 7), 1000 + i, ValueType::kValue);
    keys.push_back(k);
  }
  return keys;
}

void BM_BlockSeek(benchmark::State& state) {
  const int restart_interval = static_cast<int>(state.range(0));
  const auto keys = BlockKeys(100);
  BlockBuilder builder(restart_interval);
  for (const auto& k : keys) builder.Add(k, "value-0123456789");
  std::shared_ptr<const Block> block;
  if (!Block::Parse(std::string(builder.Finish()), "bench", 0, &block).ok()) {
    state.SkipWithError("parse failed");
    return;
  }
  auto it = block->NewIterator();
  std::mt19937 rng(1);
  for (auto _ : state) {
    it->Seek(keys[rng() % keys.size()]);
    benchmark::DoNotOptimize(it->value().data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["block_bytes"] = static_cast<double>(block->bytes());
}
BENCHMARK(BM_BlockSeek)->Arg(1)->Arg(16);

void BM_SortedVectorSeek(benchmark::State& state) {
  const auto keys = BlockKeys(100);
  std::mt19937 rng(1);
  for (auto _ : state) {
    const std::string& target = keys[rng() % keys.size()];
    auto pos = std::lower_bound(keys.begin(), keys.end(), target,
                                [](const std::string& a, const std::string& b) {
                                  return CompareInternalKeys(a, b) < 0;
                                });
    benchmark::DoNotOptimize(pos);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SortedVectorSeek);

void BM_BloomProbe(benchmark::State& state) {
  constexpr int kKeys = 100000;
  BloomBuilder builder(10);
  for (int i = 0; i < kKeys; ++i) builder.AddHash(BloomHash(fmt::format("key{:012}", i)));
  const std::string filter = builder.Finish();
  std::vector<std::string> probes;
  for (int i = 0; i < 1024; ++i) probes.push_back(fmt::format("key{:012}", i * 191));
  size_t i = 0;
  uint64_t hits = 0;
  for (auto _ : state) {
    hits += BloomMayMatch(filter, BloomHash(probes[i++ & 1023]));
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BloomProbe);

void BM_Xxh3(benchmark::State& state) {
  const std::string data(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(Checksum64(data));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Xxh3)->Arg(16)->Arg(4096);

void BM_VarintEncodeDecode(benchmark::State& state) {
  std::mt19937_64 rng(1);
  std::vector<uint64_t> values(1024);
  for (auto& v : values) v = rng() >> (rng() % 64);
  std::string buf;
  for (auto _ : state) {
    buf.clear();
    for (uint64_t v : values) PutVarint64(&buf, v);
    std::string_view in = buf;
    uint64_t sum = 0, v = 0;
    while (GetVarint64(&in, &v)) sum += v;
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * values.size());
}
BENCHMARK(BM_VarintEncodeDecode);

}  // namespace
}  // namespace strata::lsm
