// LevelDB 1.23 configured like strata's engines as far as it can be: the
// same memtable and block cache budgets and 10-bit bloom filters. LevelDB
// 1.23 has no zstd, so it uses its own default, snappy (printed as such).
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>

#include "bench/driver/adapter.h"

namespace strata::bench {

namespace {

Status FromLevel(const leveldb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption("leveldb: " + s.ToString());
  if (s.IsInvalidArgument()) return Status::InvalidArgument("leveldb: " + s.ToString());
  return Status::IOError("leveldb: " + s.ToString());
}

leveldb::Slice Slice(std::string_view v) { return leveldb::Slice(v.data(), v.size()); }

std::string_view View(const leveldb::Slice& s) { return std::string_view(s.data(), s.size()); }

class LevelCursor final : public BenchCursor {
 public:
  explicit LevelCursor(leveldb::Iterator* it) : it_(it) {}
  void Seek(std::string_view target) override { it_->Seek(Slice(target)); }
  void SeekToFirst() override { it_->SeekToFirst(); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override { return View(it_->key()); }
  std::string_view value() const override { return View(it_->value()); }
  Status status() const override { return FromLevel(it_->status()); }

 private:
  std::unique_ptr<leveldb::Iterator> it_;
};

class LevelBenchDb final : public BenchDb {
 public:
  LevelBenchDb(leveldb::DB* db, leveldb::Cache* cache, const leveldb::FilterPolicy* filter,
               std::string settings)
      : db_(db), cache_(cache), filter_(filter), settings_(std::move(settings)) {}
  ~LevelBenchDb() override { (void)Close(); }

  Status Put(std::string_view key, std::string_view value, bool sync) override {
    leveldb::WriteOptions wo;
    wo.sync = sync;
    return FromLevel(db_->Put(wo, Slice(key), Slice(value)));
  }
  Status Delete(std::string_view key, bool sync) override {
    leveldb::WriteOptions wo;
    wo.sync = sync;
    return FromLevel(db_->Delete(wo, Slice(key)));
  }
  Status Get(std::string_view key, std::string* value) override {
    return FromLevel(db_->Get(leveldb::ReadOptions(), Slice(key), value));
  }
  std::unique_ptr<BenchCursor> NewCursor() override {
    return std::make_unique<LevelCursor>(db_->NewIterator(leveldb::ReadOptions()));
  }
  // LevelDB exposes no byte counters cheap enough to read per workload
  // ("leveldb.stats" has compaction MB but not WAL bytes), so the engine's
  // own write amplification is reported as unknown.
  EngineCounters Counters() override { return {}; }
  std::string Describe() const override { return settings_; }
  Status Close() override {
    delete db_;
    db_ = nullptr;
    delete cache_;
    cache_ = nullptr;
    delete filter_;
    filter_ = nullptr;
    return Status::Ok();
  }

 private:
  leveldb::DB* db_;
  leveldb::Cache* cache_;
  const leveldb::FilterPolicy* filter_;
  std::string settings_;
};

}  // namespace

Status OpenLevelDb(const EngineConfig& config, const std::string& dir,
                   std::unique_ptr<BenchDb>* db) {
  leveldb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = config.write_buffer_bytes;
  options.block_cache = leveldb::NewLRUCache(config.cache_bytes);
  options.filter_policy = leveldb::NewBloomFilterPolicy(static_cast<int>(config.bloom_bits));
  options.compression = leveldb::kSnappyCompression;
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, dir, &raw);
  if (!s.ok()) {
    delete options.block_cache;
    delete options.filter_policy;
    return FromLevel(s);
  }
  const std::string settings =
      "leveldb " + std::to_string(leveldb::kMajorVersion) + "." +
      std::to_string(leveldb::kMinorVersion) + ": write_buffer_size=" +
      FormatBytes(config.write_buffer_bytes) + ", block_cache=LRU " +
      FormatBytes(config.cache_bytes) + ", bloom=" + std::to_string(config.bloom_bits) +
      " bits/key, compression=snappy (1.23 has no zstd), block_size=4KiB, max_file_size=" +
      FormatBytes(options.max_file_size) + ", leveled compaction (1 background thread), WAL on";
  *db = std::make_unique<LevelBenchDb>(raw, options.block_cache, options.filter_policy, settings);
  return Status::Ok();
}

}  // namespace strata::bench
