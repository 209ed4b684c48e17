// A test-only engine kind, "test-logmap": a std::map behind a mutex that
// appends every write to a log file through Options::file_system. It exists
// so the bench's strata adapter, --profile and --device-model run end to end
// through strata::Open and the public Engine interface before a real engine
// kind is linked in; it makes no durability or snapshot promise. Registered
// at static initialisation in the test binary only.
#include <iterator>
#include <map>
#include <mutex>

#include "io/file_system.h"
#include "strata/engine.h"

namespace strata::bench {
namespace {

class LogMapIterator final : public Iterator {
 public:
  LogMapIterator(std::mutex* mu, const std::map<std::string, std::string>* map)
      : mu_(mu), map_(map) {}
  bool Valid() const override { return valid_; }
  void SeekToFirst() override {
    std::lock_guard lock(*mu_);
    Copy(map_->begin());
  }
  void SeekToLast() override {
    std::lock_guard lock(*mu_);
    CopyBefore(map_->end());
  }
  void Seek(std::string_view target) override { Locate(std::string(target), false); }
  void Next() override { Locate(key_, true); }
  void Prev() override {
    std::lock_guard lock(*mu_);
    CopyBefore(map_->lower_bound(key_));
  }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  Status status() const override { return Status::Ok(); }

 private:
  // Re-finds the position under the lock on every move, so writers may run
  // between moves.
  void Locate(const std::string& from, bool after) {
    std::lock_guard lock(*mu_);
    auto it = after ? map_->upper_bound(from) : map_->lower_bound(from);
    Copy(it);
  }
  void Copy(std::map<std::string, std::string>::const_iterator it) {
    valid_ = it != map_->end();
    if (valid_) key_ = it->first, value_ = it->second;
  }
  // Positions at the entry before `it` (invalid when `it` is the first).
  void CopyBefore(std::map<std::string, std::string>::const_iterator it) {
    valid_ = it != map_->begin();
    if (valid_) Copy(std::prev(it));
  }

  std::mutex* mu_;
  const std::map<std::string, std::string>* map_;
  bool valid_ = false;
  std::string key_, value_;
};

struct SequenceSnapshot final : Snapshot {
  uint64_t seq = 0;
  uint64_t sequence() const override { return seq; }
};

class LogMapEngine final : public Engine {
 public:
  explicit LogMapEngine(std::unique_ptr<io::WritableFile> log) : log_(std::move(log)) {}
  ~LogMapEngine() override { (void)log_->Close(); }
  std::string_view kind() const override { return "test-logmap"; }

  Status Put(const WriteOptions& o, std::string_view key, std::string_view value) override {
    return Apply(o, key, &value);
  }
  Status Delete(const WriteOptions& o, std::string_view key) override {
    return Apply(o, key, nullptr);
  }
  Status Write(const WriteOptions&, const WriteBatch&) override {
    return Status::NotSupported("test-logmap: Write");
  }
  Status Get(const ReadOptions&, std::string_view key, std::string* value) override {
    std::lock_guard lock(mu_);
    auto it = map_.find(std::string(key));
    if (it == map_.end()) return Status::NotFound("test-logmap");
    *value = it->second;
    return Status::Ok();
  }
  std::unique_ptr<Iterator> NewIterator(const ReadOptions&) override {
    return std::make_unique<LogMapIterator>(&mu_, &map_);
  }
  std::unique_ptr<Snapshot> GetSnapshot() override {
    auto s = std::make_unique<SequenceSnapshot>();
    std::lock_guard lock(mu_);
    s->seq = sequence_;
    return s;
  }
  Status PutIfNewer(const WriteOptions&, std::string_view, uint64_t, std::string_view,
                    bool*) override {
    return Status::NotSupported("test-logmap: PutIfNewer");
  }
  Status GetVersioned(const ReadOptions&, std::string_view, std::string*, uint64_t*) override {
    return Status::NotSupported("test-logmap: GetVersioned");
  }
  EngineStats Stats() const override {
    std::lock_guard lock(mu_);
    EngineStats s;
    s.user_bytes_written = user_bytes_;
    s.wal_bytes_written = log_->size();
    return s;
  }

 private:
  Status Apply(const WriteOptions& o, std::string_view key, const std::string_view* value) {
    std::lock_guard lock(mu_);
    std::string record = std::string(value ? "P" : "D") + std::string(key);
    if (value) record += *value;
    STRATA_RETURN_IF_ERROR(log_->Append(record));
    if (o.sync) STRATA_RETURN_IF_ERROR(log_->Sync());
    if (value) {
      map_[std::string(key)] = std::string(*value);
    } else {
      map_.erase(std::string(key));
    }
    user_bytes_ += key.size() + (value ? value->size() : 0);
    ++sequence_;
    return Status::Ok();
  }

  mutable std::mutex mu_;
  std::map<std::string, std::string> map_;
  std::unique_ptr<io::WritableFile> log_;
  uint64_t user_bytes_ = 0;
  uint64_t sequence_ = 0;
};

Status OpenLogMap(const Options& options, const std::string& path,
                  std::unique_ptr<Engine>* engine) {
  std::shared_ptr<io::FileSystem> fs =
      options.file_system ? options.file_system : io::DefaultFileSystem();
  std::unique_ptr<io::WritableFile> log;
  // Reopening starts empty: the bench never reopens a test-logmap directory.
  STRATA_RETURN_IF_ERROR(fs->NewWritableFile(io::JoinPath(path, "log"), {}, &log));
  *engine = std::make_unique<LogMapEngine>(std::move(log));
  return Status::Ok();
}

[[maybe_unused]] const bool kRegistered = RegisterEngineKind("test-logmap", OpenLogMap).ok();

}  // namespace
}  // namespace strata::bench
