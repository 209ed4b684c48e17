// RocksDB (Debian's librocksdb 7.8) configured like strata's engines: the
// same memtable and block cache budgets, zstd, 10-bit bloom filters, leveled
// compaction, WAL on, sync per write as the workload asks.
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/version.h>

#include <algorithm>
#include <thread>

#include "bench/driver/adapter.h"

namespace strata::bench {

namespace {

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption("rocksdb: " + s.ToString());
  if (s.IsInvalidArgument()) return Status::InvalidArgument("rocksdb: " + s.ToString());
  return Status::IOError("rocksdb: " + s.ToString());
}

bool SupportsZstd() {
  for (rocksdb::CompressionType t : rocksdb::GetSupportedCompressions()) {
    if (t == rocksdb::kZSTD) return true;
  }
  return false;
}

rocksdb::Slice Slice(std::string_view v) { return rocksdb::Slice(v.data(), v.size()); }

class RocksCursor final : public BenchCursor {
 public:
  explicit RocksCursor(rocksdb::Iterator* it) : it_(it) {}
  void Seek(std::string_view target) override { it_->Seek(Slice(target)); }
  void SeekToFirst() override { it_->SeekToFirst(); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override { return it_->key().ToStringView(); }
  std::string_view value() const override { return it_->value().ToStringView(); }
  Status status() const override { return FromRocks(it_->status()); }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
};

class RocksBenchDb final : public BenchDb {
 public:
  RocksBenchDb(rocksdb::DB* db, std::shared_ptr<rocksdb::Statistics> stats, std::string settings)
      : db_(db), stats_(std::move(stats)), settings_(std::move(settings)) {}
  ~RocksBenchDb() override { (void)Close(); }

  Status Put(std::string_view key, std::string_view value, bool sync) override {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    return FromRocks(db_->Put(wo, Slice(key), Slice(value)));
  }
  Status Delete(std::string_view key, bool sync) override {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    return FromRocks(db_->Delete(wo, Slice(key)));
  }
  Status Get(std::string_view key, std::string* value) override {
    return FromRocks(db_->Get(rocksdb::ReadOptions(), Slice(key), value));
  }
  std::unique_ptr<BenchCursor> NewCursor() override {
    return std::make_unique<RocksCursor>(db_->NewIterator(rocksdb::ReadOptions()));
  }
  EngineCounters Counters() override {
    EngineCounters c;
    c.user_bytes_written = stats_->getTickerCount(rocksdb::BYTES_WRITTEN);
    c.device_bytes_written = stats_->getTickerCount(rocksdb::WAL_FILE_BYTES) +
                             stats_->getTickerCount(rocksdb::FLUSH_WRITE_BYTES) +
                             stats_->getTickerCount(rocksdb::COMPACT_WRITE_BYTES);
    return c;
  }
  std::string Describe() const override { return settings_; }
  Status Close() override {
    if (db_ == nullptr) return Status::Ok();
    Status s = FromRocks(db_->Close());
    delete db_;
    db_ = nullptr;
    return s;
  }

 private:
  rocksdb::DB* db_;
  std::shared_ptr<rocksdb::Statistics> stats_;
  std::string settings_;
};

}  // namespace

Status OpenRocksDb(const EngineConfig& config, const std::string& dir,
                   std::unique_ptr<BenchDb>* db) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = config.write_buffer_bytes;
  options.max_write_buffer_number = 2;
  options.max_background_jobs =
      static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  const bool zstd = SupportsZstd();
  options.compression = zstd ? rocksdb::kZSTD : rocksdb::kNoCompression;
  options.statistics = rocksdb::CreateDBStatistics();
  // Tickers only: histograms and timers would cost every operation.
  options.statistics->set_stats_level(rocksdb::kExceptHistogramOrTimers);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(config.cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(config.bloom_bits, false));
  table.block_size = 4096;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::DB* raw = nullptr;
  STRATA_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, dir, &raw)));
  const std::string settings =
      "rocksdb " + std::to_string(ROCKSDB_MAJOR) + "." + std::to_string(ROCKSDB_MINOR) + "." +
      std::to_string(ROCKSDB_PATCH) + ": write_buffer_size=" +
      FormatBytes(config.write_buffer_bytes) + " x2, block_cache=LRU " +
      FormatBytes(config.cache_bytes) + ", bloom=" + std::to_string(config.bloom_bits) +
      " bits/key (full filter), compression=" + (zstd ? "zstd (default level 3)" : "none (no zstd)") +
      ", block_size=4KiB, leveled compaction, max_background_jobs=" +
      std::to_string(options.max_background_jobs) + ", WAL on";
  *db = std::make_unique<RocksBenchDb>(raw, options.statistics, settings);
  return Status::Ok();
}

}  // namespace strata::bench
