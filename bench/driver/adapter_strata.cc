// strata's own engines, reached only through strata::Open and the public
// Engine interface, so that any registered kind (lsm, btree, ...) runs with
// no change here. --device-model wraps the io layer's file system in the
// device cost model and reports its modeled time.
#if __has_include("io/device_model.h")
#include "io/device_model.h"
#define STRATA_BENCH_HAVE_DEVICE_MODEL 1
#endif

#include "bench/driver/adapter.h"
#include "strata/disk_profile.h"
#include "io/disk_detect.h"
#include "io/file_system.h"
#include "strata/engine.h"

namespace strata::bench {

namespace {

class StrataCursor final : public BenchCursor {
 public:
  explicit StrataCursor(std::unique_ptr<Iterator> it) : it_(std::move(it)) {}
  void Seek(std::string_view target) override { it_->Seek(target); }
  void SeekToFirst() override { it_->SeekToFirst(); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override { return it_->key(); }
  std::string_view value() const override { return it_->value(); }
  Status status() const override { return it_->status(); }

 private:
  std::unique_ptr<Iterator> it_;
};

class StrataBenchDb final : public BenchDb {
 public:
  StrataBenchDb(std::unique_ptr<Engine> engine, std::shared_ptr<io::FileSystem> model,
                std::string settings)
      : engine_(std::move(engine)), model_(std::move(model)), settings_(std::move(settings)) {}

  Status Put(std::string_view key, std::string_view value, bool sync) override {
    return engine_->Put(WriteOptions{.sync = sync}, key, value);
  }
  Status Delete(std::string_view key, bool sync) override {
    return engine_->Delete(WriteOptions{.sync = sync}, key);
  }
  Status Get(std::string_view key, std::string* value) override {
    return engine_->Get(ReadOptions(), key, value);
  }
  std::unique_ptr<BenchCursor> NewCursor() override {
    return std::make_unique<StrataCursor>(engine_->NewIterator(ReadOptions()));
  }
  EngineCounters Counters() override {
    const EngineStats stats = engine_->Stats();
    EngineCounters c;
    c.user_bytes_written = stats.user_bytes_written;
    c.device_bytes_written = stats.device_bytes_written();
#ifdef STRATA_BENCH_HAVE_DEVICE_MODEL
    if (model_ != nullptr) {
      const auto model_stats = static_cast<io::DeviceModelFileSystem*>(model_.get())->stats();
      c.modeled_nanos = model_stats.modeled_nanos;
      c.modeled_requests = model_stats.requests;
      const auto* device = static_cast<io::DeviceModelFileSystem*>(model_.get());
      c.modeled_write_bytes = device->config().kind == io::DeviceKind::kSsd
                                  ? model_stats.pages_programmed * device->config().ssd.page_bytes
                                  : model_stats.bytes_written;
    }
#endif
    return c;
  }
  std::string Describe() const override { return settings_; }
  Status Close() override {
    engine_.reset();
    return Status::Ok();
  }

 private:
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<io::FileSystem> model_;
  std::string settings_;
};

Status MakeDeviceModel(const std::string& name, bool pace, std::shared_ptr<io::FileSystem>* fs) {
  if (name.empty()) return Status::Ok();
#ifdef STRATA_BENCH_HAVE_DEVICE_MODEL
  io::DeviceModelConfig config =
      name == "hdd" ? io::DeviceModelConfig::Hdd() : io::DeviceModelConfig::Ssd();
  config.pace = pace;
  *fs = std::make_shared<io::DeviceModelFileSystem>(io::DefaultFileSystem(), config);
  return Status::Ok();
#else
  (void)fs;
  (void)pace;
  return Status::NotSupported("--device-model=" + name +
                              ": this build has no io device model (io/device_model.h)");
#endif
}

}  // namespace

Status OpenStrataDb(std::string_view kind, const EngineConfig& config, const std::string& dir,
                    std::unique_ptr<BenchDb>* db) {
  Options options;
  options.engine = std::string(kind);
  options.memtable_bytes = config.write_buffer_bytes;
  options.block_cache_bytes = config.cache_bytes;
  options.background_write_bytes_per_second = config.rate_limiter_bytes_per_sec;
  options.bloom_bits_per_key = static_cast<int>(config.bloom_bits);
  options.compression = Compression::kZstd;
  const DiskProfile requested = config.profile == "ssd"   ? DiskProfile::kSsd
                                : config.profile == "hdd" ? DiskProfile::kHdd
                                                          : DiskProfile::kAuto;
  options.profile = requested;
  std::shared_ptr<io::FileSystem> model;
  STRATA_RETURN_IF_ERROR(MakeDeviceModel(config.device_model, config.pace, &model));
  options.file_system = model;
  std::unique_ptr<Engine> engine;
  STRATA_RETURN_IF_ERROR(Open(options, dir, &engine));
  // The decision the engine made (and stored, when it detected it).
  ResolvedDiskProfile profile;
  io::DetectOptions detect;  // the engine's probe, if it ran, is remembered: no second one
  STRATA_RETURN_IF_ERROR(
      io::ResolveDiskProfile(io::DefaultFileSystem().get(), requested, dir, detect, &profile));
  std::string settings =
      "strata " + std::string(kind) + ": memtable_bytes=" + FormatBytes(options.memtable_bytes) +
      ", block_cache_bytes=" + FormatBytes(options.block_cache_bytes) + ", bloom=" +
      std::to_string(options.bloom_bits_per_key) + " bits/key, compression=zstd level " +
      std::to_string(options.zstd_level) + ", profile=" + std::string(DiskProfileName(profile.profile)) + " (" +
      profile.reason +
      (profile.source == "stored" || profile.source == "detected" ? "; " + profile.source : "") +
      "), block_bytes/compaction/direct io from the profile";
  if (model != nullptr) {
    settings += ", device model=" + config.device_model + (config.pace ? " (paced)" : "");
  }
  *db = std::make_unique<StrataBenchDb>(std::move(engine), std::move(model), std::move(settings));
  return Status::Ok();
}

}  // namespace strata::bench
