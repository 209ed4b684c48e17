// BenchDb: the narrow interface the workloads drive, with one adapter per
// engine: strata's engines (through strata::Open and the public Engine
// interface only), RocksDB, LevelDB and LMDB.
//
// Every adapter is configured from the same EngineConfig (write buffer and
// cache budgets, bloom bits, compression, sync) and describes its exact
// settings in Describe(), which the driver prints with the results.
//
// Thread safety: every method may be called from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/status.h"

namespace strata::bench {

struct EngineConfig {
  uint64_t write_buffer_bytes = 64ull << 20;
  uint64_t cache_bytes = 64ull << 20;
  uint32_t bloom_bits = 10;
  uint64_t rate_limiter_bytes_per_sec = 0;  // strata engines; 0: no limit
  std::string profile = "auto";  // strata engines: ssd|hdd|auto
  std::string device_model;      // strata engines: ""|hdd|ssd
  bool pace = false;             // the device model sleeps its modeled time
  // Upper bound on the logical bytes the run stores; LMDB sizes its map from it.
  uint64_t expected_bytes = 0;
};

// Counters an engine keeps about itself; any may be unknown.
struct EngineCounters {
  std::optional<uint64_t> user_bytes_written;
  std::optional<uint64_t> device_bytes_written;  // WAL + flush + compaction
  // From the io layer's device model, when one is attached.
  std::optional<uint64_t> modeled_nanos;
  std::optional<uint64_t> modeled_requests;
  std::optional<uint64_t> modeled_write_bytes;
};

// An ordered cursor over a consistent view of the database.
class BenchCursor {
 public:
  virtual ~BenchCursor() = default;
  virtual void Seek(std::string_view target) = 0;
  virtual void SeekToFirst() = 0;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

class BenchDb {
 public:
  virtual ~BenchDb() = default;

  virtual Status Put(std::string_view key, std::string_view value, bool sync) = 0;
  virtual Status Delete(std::string_view key, bool sync) = 0;
  // NotFound when absent.
  virtual Status Get(std::string_view key, std::string* value) = 0;
  virtual std::unique_ptr<BenchCursor> NewCursor() = 0;

  // Seeks to the first key >= start with a fresh cursor and reads up to
  // `count` entries (including the one sought); *entries says how many it
  // read, *bytes their key and value bytes.
  Status Scan(std::string_view start, uint64_t count, uint64_t* entries, uint64_t* bytes);

  virtual EngineCounters Counters() = 0;
  // "write_buffer=64MiB cache=64MiB bloom=10 compression=zstd ...".
  virtual std::string Describe() const = 0;
  // Flushes and closes; the adapter is unusable afterwards.
  virtual Status Close() = 0;
};

// Engines compiled into this binary: the registered strata kinds first, then
// the peers that were found at build time.
std::vector<std::string> BuiltEngines();
// Peers this build was configured without, with why ("leveldb: not found at
// build time"), for the skip message.
std::vector<std::string> SkippedPeers();
bool IsStrataEngine(std::string_view engine);

// Opens `engine` in directory `dir` (created if missing).
Status OpenBenchDb(std::string_view engine, const EngineConfig& config, const std::string& dir,
                   std::unique_ptr<BenchDb>* db);

// Per-adapter entry points (adapter_*.cc); the peers exist only when built.
Status OpenStrataDb(std::string_view kind, const EngineConfig& config, const std::string& dir,
                    std::unique_ptr<BenchDb>* db);
Status OpenRocksDb(const EngineConfig& config, const std::string& dir,
                   std::unique_ptr<BenchDb>* db);
Status OpenLevelDb(const EngineConfig& config, const std::string& dir,
                   std::unique_ptr<BenchDb>* db);
Status OpenLmdb(const EngineConfig& config, const std::string& dir, std::unique_ptr<BenchDb>* db);

// "64MiB", "512KiB", "1000B".
std::string FormatBytes(uint64_t bytes);

}  // namespace strata::bench
