// LMDB: a copy-on-write B+ tree over mmap. It has no memtable and no block
// cache (the OS page cache is its cache, and the pages it touches count in
// its RSS), and no compression. Every Put is its own write transaction, as
// for the other engines every Put is its own write. The environment runs
// with MDB_NOSYNC; a write asked to be durable is followed by
// mdb_env_sync(force), which is what a synced commit costs.
#include <lmdb.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bench/driver/adapter.h"

namespace strata::bench {

namespace {

Status FromMdb(int rc, std::string_view what) {
  if (rc == MDB_SUCCESS) return Status::Ok();
  if (rc == MDB_NOTFOUND) return Status::NotFound(what);
  if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND) {
    return Status::Corruption("lmdb " + std::string(what) + ": " + mdb_strerror(rc));
  }
  return Status::IOError("lmdb " + std::string(what) + ": " + mdb_strerror(rc));
}

MDB_val Val(std::string_view v) {
  return MDB_val{v.size(), const_cast<char*>(v.data())};
}

// Aborts a transaction unless committed.
class TxnGuard {
 public:
  explicit TxnGuard(MDB_txn* txn) : txn_(txn) {}
  ~TxnGuard() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
  }
  int Commit() {
    const int rc = mdb_txn_commit(txn_);
    txn_ = nullptr;
    return rc;
  }

 private:
  MDB_txn* txn_;
};

std::string_view View(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

// A read transaction and a cursor in it: a consistent view until destroyed.
class LmdbCursor final : public BenchCursor {
 public:
  LmdbCursor(MDB_env* env, MDB_dbi dbi) {
    int rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn_);
    if (rc == MDB_SUCCESS) rc = mdb_cursor_open(txn_, dbi, &cursor_);
    if (rc != MDB_SUCCESS) status_ = FromMdb(rc, "cursor");
  }
  ~LmdbCursor() override {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
    if (txn_ != nullptr) mdb_txn_abort(txn_);
  }
  void Seek(std::string_view target) override {
    key_ = Val(target);
    Move(MDB_SET_RANGE);
  }
  void SeekToFirst() override { Move(MDB_FIRST); }
  bool Valid() const override { return valid_; }
  void Next() override { Move(MDB_NEXT); }
  std::string_view key() const override { return View(key_); }
  std::string_view value() const override { return View(value_); }
  Status status() const override { return status_; }

 private:
  void Move(MDB_cursor_op op) {
    valid_ = false;
    if (!status_.ok()) return;
    const int rc = mdb_cursor_get(cursor_, &key_, &value_, op);
    if (rc == MDB_SUCCESS) {
      valid_ = true;
    } else if (rc != MDB_NOTFOUND) {
      status_ = FromMdb(rc, "cursor");
    }
  }

  MDB_txn* txn_ = nullptr;
  MDB_cursor* cursor_ = nullptr;
  MDB_val key_{}, value_{};
  bool valid_ = false;
  Status status_;
};

class LmdbBenchDb final : public BenchDb {
 public:
  LmdbBenchDb(MDB_env* env, MDB_dbi dbi, std::string settings)
      : env_(env), dbi_(dbi), settings_(std::move(settings)) {}
  ~LmdbBenchDb() override { (void)Close(); }

  Status Put(std::string_view key, std::string_view value, bool sync) override {
    return Update(key, &value, sync);
  }
  Status Delete(std::string_view key, bool sync) override { return Update(key, nullptr, sync); }

  Status Get(std::string_view key, std::string* value) override {
    MDB_txn* txn = nullptr;
    STRATA_RETURN_IF_ERROR(FromMdb(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "begin"));
    TxnGuard guard(txn);
    MDB_val k = Val(key), v{};
    STRATA_RETURN_IF_ERROR(FromMdb(mdb_get(txn, dbi_, &k, &v), "get"));
    value->assign(static_cast<const char*>(v.mv_data), v.mv_size);
    return Status::Ok();
  }

  std::unique_ptr<BenchCursor> NewCursor() override {
    return std::make_unique<LmdbCursor>(env_, dbi_);
  }
  EngineCounters Counters() override { return {}; }
  std::string Describe() const override { return settings_; }
  Status Close() override {
    if (env_ == nullptr) return Status::Ok();
    const int rc = mdb_env_sync(env_, 1);
    mdb_env_close(env_);
    env_ = nullptr;
    return FromMdb(rc, "sync at close");
  }

 private:
  Status Update(std::string_view key, const std::string_view* value, bool sync) {
    MDB_txn* txn = nullptr;
    STRATA_RETURN_IF_ERROR(FromMdb(mdb_txn_begin(env_, nullptr, 0, &txn), "begin"));
    TxnGuard guard(txn);
    MDB_val k = Val(key);
    if (value != nullptr) {
      MDB_val v = Val(*value);
      STRATA_RETURN_IF_ERROR(FromMdb(mdb_put(txn, dbi_, &k, &v, 0), "put"));
    } else {
      const int rc = mdb_del(txn, dbi_, &k, nullptr);
      if (rc != MDB_NOTFOUND) STRATA_RETURN_IF_ERROR(FromMdb(rc, "del"));
    }
    STRATA_RETURN_IF_ERROR(FromMdb(guard.Commit(), "commit"));
    if (sync) STRATA_RETURN_IF_ERROR(FromMdb(mdb_env_sync(env_, 1), "sync"));
    return Status::Ok();
  }

  MDB_env* env_;
  MDB_dbi dbi_;
  std::string settings_;
};

}  // namespace

Status OpenLmdb(const EngineConfig& config, const std::string& dir, std::unique_ptr<BenchDb>* db) {
  // The map is address space, not memory: reserve room for the data with
  // B+ tree overhead and free-page churn.
  constexpr uint64_t kMapBytesMin = 16ull << 30;
  constexpr uint64_t kMapOverheadFactor = 8;
  constexpr unsigned kReadersMax = 512;
  const uint64_t map_bytes = std::max(kMapBytesMin, config.expected_bytes * kMapOverheadFactor);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::IOError("mkdir " + dir + ": " + std::strerror(errno));
  }
  MDB_env* env = nullptr;
  STRATA_RETURN_IF_ERROR(FromMdb(mdb_env_create(&env), "env_create"));
  int rc = mdb_env_set_mapsize(env, map_bytes);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_maxreaders(env, kReadersMax);
  if (rc == MDB_SUCCESS) rc = mdb_env_open(env, dir.c_str(), MDB_NOSYNC, 0644);
  MDB_txn* txn = nullptr;
  MDB_dbi dbi = 0;
  if (rc == MDB_SUCCESS) rc = mdb_txn_begin(env, nullptr, 0, &txn);
  if (rc == MDB_SUCCESS) {
    rc = mdb_dbi_open(txn, nullptr, 0, &dbi);
    if (rc == MDB_SUCCESS) {
      rc = mdb_txn_commit(txn);
    } else {
      mdb_txn_abort(txn);
    }
  }
  if (rc != MDB_SUCCESS) {
    mdb_env_close(env);
    return FromMdb(rc, "open " + dir);
  }
  int major = 0, minor = 0, patch = 0;
  mdb_version(&major, &minor, &patch);
  const std::string settings =
      "lmdb " + std::to_string(major) + "." + std::to_string(minor) + "." +
      std::to_string(patch) + ": mapsize=" + FormatBytes(map_bytes) +
      ", MDB_NOSYNC with mdb_env_sync(force) after a synced write, one write txn per Put, "
      "no memtable, cache = OS page cache via mmap (no budget), no compression, no bloom";
  *db = std::make_unique<LmdbBenchDb>(env, dbi, settings);
  return Status::Ok();
}

}  // namespace strata::bench
