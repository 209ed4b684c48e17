#include "bench/driver/adapter.h"

#include <algorithm>

#include "strata/engine.h"

namespace strata::bench {

namespace {

struct Peer {
  const char* name;
  bool built;
};

constexpr Peer kPeers[] = {
#ifdef STRATA_BENCH_HAVE_ROCKSDB
    {"rocksdb", true},
#else
    {"rocksdb", false},
#endif
#ifdef STRATA_BENCH_HAVE_LEVELDB
    {"leveldb", true},
#else
    {"leveldb", false},
#endif
#ifdef STRATA_BENCH_HAVE_LMDB
    {"lmdb", true},
#else
    {"lmdb", false},
#endif
};

}  // namespace

std::vector<std::string> BuiltEngines() {
  std::vector<std::string> engines = RegisteredEngineKinds();
  for (const Peer& p : kPeers) {
    if (p.built) engines.emplace_back(p.name);
  }
  return engines;
}

std::vector<std::string> SkippedPeers() {
  std::vector<std::string> skipped;
  for (const Peer& p : kPeers) {
    if (!p.built) skipped.push_back(std::string(p.name) + ": library not found at build time");
  }
  return skipped;
}

bool IsStrataEngine(std::string_view engine) {
  const std::vector<std::string> kinds = RegisteredEngineKinds();
  return std::find(kinds.begin(), kinds.end(), engine) != kinds.end();
}

Status OpenBenchDb(std::string_view engine, const EngineConfig& config, const std::string& dir,
                   std::unique_ptr<BenchDb>* db) {
  if (IsStrataEngine(engine)) return OpenStrataDb(engine, config, dir, db);
#ifdef STRATA_BENCH_HAVE_ROCKSDB
  if (engine == "rocksdb") return OpenRocksDb(config, dir, db);
#endif
#ifdef STRATA_BENCH_HAVE_LEVELDB
  if (engine == "leveldb") return OpenLevelDb(config, dir, db);
#endif
#ifdef STRATA_BENCH_HAVE_LMDB
  if (engine == "lmdb") return OpenLmdb(config, dir, db);
#endif
  return Status::InvalidArgument("engine '" + std::string(engine) + "' is not built");
}

Status BenchDb::Scan(std::string_view start, uint64_t count, uint64_t* entries,
                     uint64_t* bytes) {
  std::unique_ptr<BenchCursor> cursor = NewCursor();
  uint64_t n = 0, b = 0;
  for (cursor->Seek(start); n < count && cursor->Valid(); cursor->Next()) {
    b += cursor->key().size() + cursor->value().size();
    ++n;
  }
  *entries = n;
  *bytes = b;
  return cursor->status();
}

std::string FormatBytes(uint64_t bytes) {
  constexpr uint64_t kKiB = 1024;
  if (bytes >= kKiB * kKiB * kKiB && bytes % (kKiB * kKiB * kKiB) == 0) {
    return std::to_string(bytes / (kKiB * kKiB * kKiB)) + "GiB";
  }
  if (bytes >= kKiB * kKiB && bytes % (kKiB * kKiB) == 0) {
    return std::to_string(bytes / (kKiB * kKiB)) + "MiB";
  }
  if (bytes >= kKiB && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + "KiB";
  return std::to_string(bytes) + "B";
}

}  // namespace strata::bench
